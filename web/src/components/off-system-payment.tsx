import { useRef, useState, type FormEvent } from 'react';
import { newIdempotencyKey, post } from '../api';
import { money } from '../format';
import { payErrorMessage } from '../pay-errors';
import type { DetailsAndActions, Service, SubmitResult } from '../types';
import { SourceFields } from './source-fields';
import { Alert, Notice } from './status';

/** Staff record money that reached the operator another way (cash, EFT …) against what is due. */
export function OffSystemPayment({ service, details, onRecorded }: { service: Service; details: DetailsAndActions; onRecorded: () => void }) {
  const purchase = details.must_pay_info?.arrears_purchase ?? null;
  const medium = details.mediums.find((m) => m.medium_type === 'OffSystem' && m.medium_status === 'Valid');
  const [done, setDone] = useState<string | null>(null);
  const [source, setSource] = useState('');
  const [comment, setComment] = useState('');
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inFlight = useRef(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (inFlight.current || !purchase || !medium) return;
    if (!source) return setMissing(true);
    inFlight.current = true;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const body = {
        service_id: service.id,
        purchase_id: purchase.id,
        medium_id: medium.medium_detail_id,
        purchase_source_id: source,
        comment: comment.trim() || null,
        success_url: null,
        failure_url: null,
        process_immediate_purchase: true,
      };
      await post<SubmitResult>('/purchases/submit-for-collection', body, { headers: { 'Idempotency-Key': newIdempotencyKey() } });
      setDone(`Payment of ${money(purchase.amount)} recorded.`);
      setSource('');
      setComment('');
      onRecorded();
    } catch (err) {
      setError(payErrorMessage(err));
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="offsystem-h">
      <h2 id="offsystem-h">Off-system payment</h2>
      {done && <Notice tone="success">{done}</Notice>}
      {!purchase ? (
        <p className="muted">Nothing is due on this service, so there is nothing to record.</p>
      ) : !medium ? (
        <p className="muted">This customer has no off-system payment method, so a payment cannot be recorded here.</p>
      ) : (
        <form className="form" onSubmit={submit} noValidate>
          <p>
            Record <span className="amount">{money(purchase.amount)}</span> received outside payrail. Nobody is debited.
          </p>
          <SourceFields
            collectorId={details.collector_id}
            source={source}
            comment={comment}
            invalid={missing}
            disabled={busy}
            onSource={(s) => {
              setSource(s);
              setMissing(false);
            }}
            onComment={setComment}
          />
          {error && <Alert>{error}</Alert>}
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? 'Recording…' : 'Record payment'}
          </button>
        </form>
      )}
    </section>
  );
}
