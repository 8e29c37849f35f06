import { useState } from 'react';
import { messageOf, q, request } from '../api';
import { providerName } from '../mediums';
import type { DetailsAndActions, Medium, Service } from '../types';
import { Alert } from './status';

/**
 * The customer's saved cards and bank accounts, the one this service is collected from marked, each card
 * mandate with what it agreed ("Monthly debit of R379.00 on the 15th"), and a way to withdraw one. A
 * withdrawn mandate is cancelled at its provider first; until it is, nothing changes here.
 */
export function PaymentMethods({ service, details, onChanged }: { service: Service; details: DetailsAndActions; onChanged: () => void }) {
  const saved = details.mediums.filter((m) => m.medium_status === 'Valid' && (m.medium_type === 'CreditCard' || m.medium_type === 'BankAccount'));
  const activeId = service.active_medium_id?.toLowerCase() ?? null;
  return (
    <section className="card" aria-labelledby="payment-methods">
      <h2 id="payment-methods">Payment methods</h2>
      {saved.length === 0 ? (
        <p className="muted">No saved card or bank account. {activeId === null && service.service_type === 'Recurring' ? 'Monthly payments are not collected automatically: pay each one with Make payment, or add a card or bank account.' : ''}</p>
      ) : (
        <ul className="payment-methods">
          {saved.map((m) => (
            <SavedMedium key={m.medium_detail_id} medium={m} active={m.medium_detail_id.toLowerCase() === activeId} onChanged={onChanged} />
          ))}
        </ul>
      )}
      {saved.length > 0 && activeId === null && service.service_type === 'Recurring' && service.service_status !== 'Cancelled' && (
        <p className="muted" data-testid="no-active-medium">
          This service has no payment method: its monthly payments stay due until you pay them.
        </p>
      )}
    </section>
  );
}

function SavedMedium({ medium, active, onChanged }: { medium: Medium; active: boolean; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = medium.medium_detail_id.toLowerCase();
  const what = medium.mandate ? 'mandate' : medium.medium_type === 'BankAccount' ? 'bank account' : 'card';
  const withdraw = async () => {
    if (busy) return;
    const question = medium.mandate
      ? `Cancel this mandate (${medium.mandate.summary})? Nothing more will be debited from this card.`
      : `Remove this ${what}? It will not be charged again.`;
    if (!window.confirm(question)) return;
    setBusy(true);
    setError(null);
    try {
      await request('DELETE', `/payment-mediums/${q(id)}`);
      onChanged();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <li data-testid={`saved-medium-${id}`}>
      <div>
        <strong>{medium.account_name}</strong>{' '}
        <span className="muted">
          {medium.medium_type === 'BankAccount' ? 'Bank account' : 'Card'}
          {medium.account_number ? ` ending ${medium.account_number}` : ''}
          {medium.provider ? ` · ${providerName(medium.provider)}` : ''}
        </span>
        {active && <span className="active-mark"> ✓ Used for this service</span>}
      </div>
      {medium.mandate && (
        <p className="mandate" data-testid="mandate">
          {medium.mandate.summary}
        </p>
      )}
      <button type="button" className="button secondary small" onClick={withdraw} disabled={busy}>
        {busy ? 'Cancelling…' : medium.mandate ? 'Cancel mandate' : `Remove ${what}`}
      </button>
      {error && <Alert>{error}</Alert>}
    </li>
  );
}
