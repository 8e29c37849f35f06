import { get, isAbort, q } from './api';
import type { NewCards } from './components/medium-picker';
import { byKind, mediumList } from './mediums';
import { isStaff, type Session } from './session';
import type { DetailsAndActions, Medium, PaymentMedium, Service } from './types';

/** What the pay form offers: the valid mediums (saved first), the service's active one, who runs "Add new payment method". */
export interface PayOptions {
  mediums: Medium[];
  activeId: string | null;
  newCards: NewCards | null;
}

/**
 * Loads the pay form's choices alongside the service and its details (given as the caller's requests, so
 * nothing waits for anything it does not need).
 */
export async function loadPayOptions(serviceId: string, session: Session, service: Promise<Service>, details: Promise<DetailsAndActions>, signal: AbortSignal): Promise<PayOptions> {
  const staff = isStaff(session.user);
  const [s, d, customerMediums, active, cardDefault] = await Promise.all([
    service,
    details,
    staff ? null : get<PaymentMedium[] | { items: PaymentMedium[] }>(`/payment-mediums?userId=${q(session.user.user_id)}`, { signal }),
    // The check mark is a nicety: without it the screen still works.
    get<Medium | null>(`/active-payment-medium-for-service?serviceId=${q(serviceId)}`, { signal }).catch((err: unknown) => {
      if (isAbort(err)) throw err;
      return null;
    }),
    // Who runs "Add new payment method": only to name it.
    get<{ provider: string; mandates: boolean }>('/default?mediumType=2', { signal }).catch((err: unknown) => {
      if (isAbort(err)) throw err;
      return null;
    }),
  ]);
  const all = customerMediums ? mediumList(customerMediums) : d.mediums;
  const mediums = all.filter((m) => m.medium_status === 'Valid' && (staff || m.medium_type !== 'OffSystem')).sort(byKind);
  // A provider whose cards are mandates sets one up on a monthly service; other services pay through Peach (the global medium's).
  const mandate = cardDefault?.mandates === true && s.service_type === 'Recurring';
  const newCards = cardDefault ? { provider: cardDefault.mandates && !mandate ? 'PeachPayments' : cardDefault.provider, mandate } : null;
  return { mediums, activeId: active?.medium_detail_id.toLowerCase() ?? null, newCards };
}
