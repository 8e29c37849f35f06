import type { ReactNode } from 'react';
import { money } from '../format';
import type { DetailsAndActions, Service } from '../types';

/** A suspended service says so before anything else, and what reconnects it: paying what it owes, or buying days. */
export function SuspendedNote({ service, details }: { service: Service; details: DetailsAndActions | null }) {
  const status = details?.service_status ?? service.service_status;
  const billing = details?.billing_status ?? service.billing_status;
  if (status !== 'Suspended' && billing !== 'Suspended') return null;
  const next = details?.must_pay_info?.arrears_purchase.amount;
  const owed = service.amount_due > 0 ? service.amount_due : next;
  let why: ReactNode;
  if (details?.last_purchase_is_pending) why = 'A payment is in progress; the service is reconnected as soon as it succeeds.';
  else if (owed !== undefined)
    why = (
      <>
        <span className="amount">{money(owed)}</span> is overdue.{' '}
        {next !== undefined && next < owed ? 'Pay each bill, oldest first: the service is reconnected as soon as nothing is owed.' : 'Pay it to reconnect the service straight away.'}
      </>
    );
  else if (details?.can_buy_info?.can_buy) why = 'Its paid days have run out. Buy more days to reconnect it.';
  else why = 'Please contact your provider to reconnect it.';
  return (
    <p className="notice notice-error suspended-note" data-testid="suspended-note">
      <strong>Suspended.</strong> {why}
    </p>
  );
}
