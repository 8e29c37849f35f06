import type { Medium, PaymentMedium } from './types';

/** GET /payment-mediums names its fields as seed 000 does (bank_account, account_nr_partial); details-and-actions does not. */
export function normaliseMedium(m: PaymentMedium): Medium {
  return {
    medium_detail_id: m.medium_detail_id,
    medium_type: m.medium_type,
    medium_status: m.medium_status,
    account_name: m.account_name ?? m.bank_account ?? m.medium_type,
    account_number: m.account_number ?? m.account_nr_partial ?? null,
    provider: m.provider ?? null,
    mandate: m.mandate ?? null,
  };
}

export function mediumList(body: PaymentMedium[] | { items: PaymentMedium[] }): Medium[] {
  return (Array.isArray(body) ? body : body.items).map(normaliseMedium);
}

/** Providers as customers know them. */
const PROVIDER_NAME: Record<string, string> = { PeachPayments: 'Peach Payments', PayFast: 'PayFast', VodaPay: 'VodaPay', Debitsuccess: 'Debitsuccess' };
export const providerName = (id: string | null | undefined): string => (id ? (PROVIDER_NAME[id] ?? id) : 'the payment provider');

/**
 * What choosing a medium does. `newCards` is who runs "Add new payment method" for this service (the
 * operator's card provider; VodaPay only for a service billed monthly, where the card becomes a mandate).
 */
export function describeMedium(m: Medium, newCards: { provider: string; mandate: boolean } | null = null): string {
  const ending = m.account_number ? ` ending ${m.account_number}` : '';
  switch (m.medium_type) {
    case 'CreditCard':
      return m.mandate ? `Card${ending} · ${m.mandate.summary}` : `Saved card${ending}`;
    case 'BankAccount':
      return `Debit order from bank account${ending}`;
    case 'PaymentLink':
      return 'Pay on PayFast’s secure payment page';
    case 'ProviderSelectedOpaque':
      return newCards?.mandate
        ? `Enter a new card on ${providerName(newCards.provider)}’s secure page: it pays this and is debited monthly from then on`
        : `Enter a new card on ${providerName(newCards?.provider ?? 'PeachPayments')}’s secure page`;
    case 'OffSystem':
      return 'Record money received outside payrail; nobody is debited';
    default:
      return m.medium_type;
  }
}

/** The order on the screen: saved cards and accounts first, then pages, then staff-only. */
const ORDER: Record<string, number> = { CreditCard: 0, BankAccount: 1, PaymentLink: 2, ProviderSelectedOpaque: 3, OffSystem: 4 };
export const byKind = (a: Medium, b: Medium): number => (ORDER[a.medium_type] ?? 9) - (ORDER[b.medium_type] ?? 9);
