import { useEffect, useState } from 'react';
import { get, messageOf, post, q } from '../api';
import type { Service } from '../types';
import { Alert, Notice } from './status';

interface Capture {
  id: string;
  status: 'open' | 'succeeded' | 'failed' | 'expired';
  capture_url: string | null;
  medium_id: string | null;
  failure: { code: string; message: string } | null;
}

interface ActiveMedium {
  medium_detail_id: string;
  account_number: string | null;
}

/**
 * "Add bank account": Debitsuccess's form takes the account (payrail never sees its number), then sends the
 * customer back here with the capture's id; the account is the service's payment medium once Debitsuccess
 * says it kept it.
 */
export function AddBankAccount({ service }: { service: Service }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const open = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const back = `${window.location.origin}/app/services/${service.id.toLowerCase()}`;
      const { data } = await post<Capture>('/payment-mediums/capture', { service_id: service.id, medium_type: 'BankAccount', return_url: back });
      window.location.assign(data.capture_url!);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="button secondary" onClick={open} disabled={busy}>
        {busy ? 'Opening Debitsuccess…' : 'Add bank account'}
      </button>
      {error && <Alert>{error}</Alert>}
    </>
  );
}

const POLL_MS = 2000;
const POLL_TIMES = 10;

/** Back from Debitsuccess's form: what came of it, as payrail knows it from Debitsuccess (asked again while open). */
export function CaptureResult({ serviceId, captureId, onDone }: { serviceId: string; captureId: string; onDone: () => void }) {
  const [state, setState] = useState<{ capture: Capture; last4: string | null } | { error: string } | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer = 0;
    let tries = 0;
    const check = async () => {
      try {
        const capture = await get<Capture>(`/payment-mediums/captures/${q(captureId)}`);
        if (stopped) return;
        if (capture.status === 'open' && ++tries < POLL_TIMES) {
          setState({ capture, last4: null });
          timer = window.setTimeout(check, POLL_MS);
          return;
        }
        const active = capture.status === 'succeeded' ? await get<ActiveMedium | null>(`/active-payment-medium-for-service?serviceId=${q(serviceId)}`) : null;
        if (stopped) return;
        setState({ capture, last4: active?.medium_detail_id.toLowerCase() === capture.medium_id?.toLowerCase() ? (active?.account_number ?? null) : null });
        if (capture.status === 'succeeded') onDone();
      } catch (err) {
        if (!stopped) setState({ error: messageOf(err) });
      }
    };
    timer = window.setTimeout(check, 0);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [captureId]);

  if (state === null) return <Notice>Checking with Debitsuccess…</Notice>;
  if ('error' in state) return <Alert>{state.error}</Alert>;
  const { capture, last4 } = state;
  if (capture.status === 'succeeded')
    return (
      <Notice tone="success">
        Bank account {last4 ? `ending ${last4} ` : ''}added: it is now this service’s payment method.
      </Notice>
    );
  if (capture.status === 'open')
    return (
      <Notice>
        <span className="spinner" aria-hidden="true" /> Debitsuccess has not confirmed your bank account yet. This page shows it once it does.
      </Notice>
    );
  return <Alert>Your bank account was not added: {capture.failure?.message ?? 'Debitsuccess kept no details.'} Nothing changed.</Alert>;
}
