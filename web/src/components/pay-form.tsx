import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, get, NetworkError, newIdempotencyKey, q, request } from '../api';
import { DEBIT_ORDER_SUBMITTED, isDebitOrder, money } from '../format';
import { declineMessage, payErrorMessage } from '../pay-errors';
import { navigate } from '../router';
import type { Session } from '../session';
import { PurchaseStatus, type Medium, type Page, type Payment, type Purchase, type Service, type SubmitResult } from '../types';
import { MediumPicker, type NewCards } from './medium-picker';
import { SourceFields } from './source-fields';
import { Alert, Notice } from './status';

const POLL_MS = 2000;

type Phase = 'idle' | 'paying' | 'confirming' | 'leaving' | 'debit_order';

export function PayForm(props: { service: Service; purchase: Purchase; mediums: Medium[]; activeId: string | null; session: Session; newCards?: NewCards | null }) {
  const { service, purchase, mediums, session } = props;
  const initial = mediums.find((m) => m.medium_detail_id.toLowerCase() === props.activeId) ?? mediums[0];
  const [mediumId, setMediumId] = useState(initial?.medium_detail_id.toLowerCase() ?? '');
  const [source, setSource] = useState('');
  const [comment, setComment] = useState('');
  const [phase, setPhase] = useState<Phase>('idle');
  const [error, setError] = useState<string | null>(null);
  const [pollId, setPollId] = useState<string | null>(null);
  // A hosted page the customer left (Back) keeps the purchase in flight until it expires: offer it again.
  const [resumeUrl, setResumeUrl] = useState<string | null>(null);
  // A double click must never send two POSTs: state updates too late, a ref does not.
  const inFlight = useRef(false);
  // The same body after a lost answer reuses its key, so payrail replays rather than charging again.
  const idem = useRef<{ body: string; key: string } | null>(null);

  const medium = mediums.find((m) => m.medium_detail_id.toLowerCase() === mediumId);
  const offSystem = medium?.medium_type === 'OffSystem';
  const resultUrl = (ok: boolean) => `/app/ext-pay/${session.user.user_id}/${purchase.id}/${ok ? 1 : 0}`;

  const fail = (message: string) => {
    setError(message);
    setPhase('idle');
    inFlight.current = false;
  };

  const findInFlight = async () => {
    const page = await get<Page<Payment>>(`/payments?purchaseId=${q(purchase.id)}`).catch(() => null);
    const open = page?.items.find((p) => p.status === 'pending' || p.status === 'unknown');
    if (!open) return;
    if (open.payment_link_url && (!open.link_expires_date || Date.parse(open.link_expires_date) > Date.now())) setResumeUrl(open.payment_link_url);
    else if (isDebitOrder(open)) {
      // A debit order waits for the bank for days: nothing to watch here, and nothing to pay again.
      inFlight.current = true;
      setPhase('debit_order');
    } else if (!open.payment_link_url) {
      inFlight.current = true;
      setPollId(open.id);
      setPhase('confirming');
    }
  };

  useEffect(() => {
    if (purchase.purchase_status_id === PurchaseStatus.Submitted) void findInFlight();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [purchase.id]);

  // 202: the provider has not answered yet; payrail settles the attempt and we watch it.
  useEffect(() => {
    if (phase !== 'confirming') return;
    let stopped = false;
    const timer = window.setInterval(async () => {
      try {
        const page = await get<Page<Payment>>(`/payments?purchaseId=${q(purchase.id)}`);
        const p = (pollId && page.items.find((x) => x.id === pollId)) || page.items[0];
        if (stopped || !p) return;
        if (p.status === 'succeeded') navigate(resultUrl(true));
        else if (p.status === 'failed') fail(declineMessage(p.failure_code));
      } catch {
        // A missed poll is retried on the next tick.
      }
    }, POLL_MS);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [phase, pollId, purchase.id]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (inFlight.current) return;
    if (!medium) return setError('Choose how to pay.');
    if (offSystem && !source) return setError('Choose where the money came from.');
    inFlight.current = true;
    setPhase('paying');
    setError(null);
    const body = {
      service_id: service.id,
      purchase_id: purchase.id,
      medium_id: medium.medium_detail_id,
      success_url: null,
      failure_url: null,
      process_immediate_purchase: true,
      ...(offSystem ? { purchase_source_id: source, comment: comment.trim() || null } : {}),
    };
    const json = JSON.stringify(body);
    if (idem.current?.body !== json) idem.current = { body: json, key: newIdempotencyKey() };
    try {
      const res = await request<SubmitResult>('POST', '/purchases/submit-for-collection', { body, headers: { 'Idempotency-Key': idem.current.key } });
      idem.current = null;
      const r = res.data;
      if (r.payment_link_url) {
        setPhase('leaving');
        window.location.assign(r.payment_link_url);
      } else if (res.status === 202 && medium.medium_type === 'BankAccount') {
        // A debit order: the result page says it was submitted and when it clears.
        navigate(resultUrl(true));
      } else if (res.status === 202 || r.payment_status === 'pending' || r.payment_status === 'unknown') {
        setPollId(r.payment_id);
        setPhase('confirming');
      } else {
        navigate(resultUrl(true));
      }
    } catch (err) {
      if (!(err instanceof NetworkError)) idem.current = null;
      fail(payErrorMessage(err));
      if (err instanceof ApiError && err.code === 'purchase.collection_in_flight') void findInFlight();
    }
  };

  const busy = phase !== 'idle';
  return (
    <form className="form pay-form" onSubmit={submit} noValidate aria-busy={busy}>
      {mediums.length === 0 ? <Alert>There is no way to pay this online. Please contact your provider.</Alert> : null}
      <MediumPicker mediums={mediums} activeId={props.activeId} value={mediumId} disabled={busy} onChange={setMediumId} newCards={props.newCards ?? null} />
      {offSystem && <SourceFields collectorId={service.collector_id} source={source} comment={comment} onSource={setSource} onComment={setComment} disabled={busy} />}
      {error && <Alert>{error}</Alert>}
      {resumeUrl && phase === 'idle' && (
        <p>
          <a href={resumeUrl} className="button secondary block">
            Continue the payment you started
          </a>
        </p>
      )}
      {phase === 'confirming' && (
        <Notice>
          <span className="spinner" aria-hidden="true" /> We're confirming your payment with the bank…
        </Notice>
      )}
      {phase === 'leaving' && <Notice>Taking you to the secure payment page…</Notice>}
      {phase === 'debit_order' && <Notice>{DEBIT_ORDER_SUBMITTED}. This purchase is paid as soon as your bank clears it.</Notice>}
      <button type="submit" className="button primary block big" disabled={busy || !medium}>
        {busy ? 'Paying…' : `Pay ${money(purchase.amount)}`}
      </button>
    </form>
  );
}
