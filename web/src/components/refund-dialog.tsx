import { useEffect, useRef, useState } from 'react';
import { messageOf, post, q } from '../api';
import { money } from '../format';
import { providerName } from '../mediums';
import type { Payment, Refund } from '../types';
import { Alert } from './status';

/**
 * Staff: "Refund R100.00?" in a modal dialog (the browser's own: focus kept inside, Escape cancels), with an
 * optional reason. payrail refunds a payment once: asking again answers the refund there already is.
 */
export function RefundDialog({ payment, onClose, onRefunded }: { payment: Payment; onClose: () => void; onRefunded: (refund: Refund, created: boolean) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const offSystem = payment.kind === 'allocation';

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    // A refund cannot be undone: the safe choice has the focus.
    cancel.current?.focus();
  }, []);

  const confirm = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const res = await post<Refund>(`/payments/${q(payment.id)}/refunds`, comment.trim() ? { comment: comment.trim() } : {});
      onRefunded(res.data, res.status === 201);
      dialog.current?.close();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="refund-h" aria-describedby="refund-desc" onClose={onClose}>
      <h2 id="refund-h">Refund {money(payment.amount)}?</h2>
      <p id="refund-desc">
        {offSystem
          ? `This money was received outside payrail, so payrail cannot send it back: the refund is recorded for you to give ${money(payment.amount)} back by hand.`
          : `All ${money(payment.amount)} of this payment goes back to the customer through ${providerName(payment.provider)}. This cannot be undone.`}
      </p>
      <div className="field">
        <label htmlFor="refund-comment">Reason (optional)</label>
        <textarea id="refund-comment" rows={2} maxLength={500} value={comment} disabled={busy} onChange={(e) => setComment(e.target.value)} />
      </div>
      {error && <Alert>{error}</Alert>}
      <div className="actions">
        <button type="button" className="button primary" onClick={() => void confirm()} disabled={busy}>
          {busy ? 'Refunding…' : `Refund ${money(payment.amount)}`}
        </button>
        <button type="button" ref={cancel} className="button secondary" onClick={() => dialog.current?.close()} disabled={busy}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

export const REFUND_STATUS: Record<string, string> = { pending: 'Refund pending', unknown: 'Refund being checked', succeeded: 'Refunded', failed: 'Refund failed', manual: 'Refund by hand' };

/** What became of a refund, in a sentence for the staff member who asked for it. */
export function refundOutcome(r: Refund, created: boolean): string {
  const amount = money(r.amount);
  const provider = providerName(r.provider);
  const again = created ? '' : 'This payment had already been refunded: ';
  switch (r.status) {
    case 'succeeded':
      return `${again}Refunded ${amount}: ${provider} confirmed the refund.`;
    case 'pending':
      return `${again}The refund of ${amount} was sent to ${provider}; it is waiting for ${provider} to confirm it.`;
    case 'unknown':
      return `${again}The refund of ${amount} was sent, but ${provider} has not answered yet. payrail keeps asking until it does.`;
    case 'manual':
      return `${again}The refund of ${amount} is recorded: give the money back to the customer by hand.`;
    default:
      return `${again}${provider} refused the refund of ${amount}${r.failure?.message ? `: ${r.failure.message}` : '.'}`;
  }
}
