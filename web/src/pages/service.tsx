import { useEffect, useState } from 'react';
import { get, messageOf, q } from '../api';
import { AddBankAccount, CaptureResult } from '../components/add-bank-account';
import { OffSystemPayment } from '../components/off-system-payment';
import { PaymentMethods } from '../components/payment-methods';
import { PaymentsTable } from '../components/payments-table';
import { PurchaseHistory } from '../components/purchase-history';
import { productName, ServiceFacts } from '../components/service-facts';
import { Alert, ErrorNote, Loading, Notice } from '../components/status';
import { SuspendedNote } from '../components/suspended-note';
import { SERVICE_TYPE } from '../format';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { Link } from '../router';
import { isStaff, type Session } from '../session';
import type { DetailsAndActions, Service } from '../types';

export function ServicePage({ id, session, backFromCardUpdate, captureId }: { id: string; session: Session; backFromCardUpdate: boolean; captureId: string | null }) {
  const [loaded, reload] = useLoad(
    (signal) =>
      Promise.all([get<Service>(`/services/${q(id)}`, { signal }), get<DetailsAndActions>(`/services/${q(id)}/details-and-actions`, { signal })]),
    [id],
  );
  const [paymentsVersion, setPaymentsVersion] = useState(0);
  const service = loaded.state === 'ready' ? loaded.data[0] : null;
  useTitle(service ? productName(service) : 'Service');

  if (loaded.state === 'loading') return <Loading />;
  if (loaded.state === 'error') return <ErrorNote error={loaded.error} />;
  const [s, d] = loaded.data;
  const sid = s.id.toLowerCase();
  const staff = isStaff(session.user);

  return (
    <>
      <p className="back">
        <Link to="/app">← {staff ? 'Services' : 'Your services'}</Link>
      </p>
      <h1>{productName(s)}</h1>
      <p className="muted">{SERVICE_TYPE[s.service_type] ?? s.service_type}</p>
      {backFromCardUpdate && <CardUpdateResult service={s} />}
      {captureId && <CaptureResult serviceId={sid} captureId={captureId} onDone={reload} />}
      <SuspendedNote service={s} details={d} />
      <section className="card" aria-label="Service details" data-testid={`service-${sid}`}>
        <ServiceFacts service={s} details={d} />
        <div className="actions">
          {d.must_pay_info && (
            <Link to={`/app/services/${sid}/pay`} className="button primary">
              Make payment
            </Link>
          )}
          {d.can_buy_info?.can_buy &&
            (s.service_type === 'PrepaidUtility' ? (
              <Link to={`/app/services/${sid}/electricity`} className={`button ${d.must_pay_info ? 'secondary' : 'primary'}`}>
                Buy electricity
              </Link>
            ) : (
              <Link to={`/app/services/${sid}/buy`} className="button secondary">
                Buy now
              </Link>
            ))}
          {s.service_type === 'HybridDayBundle' && <UpdateCard service={s} details={d} />}
          {s.service_type === 'Recurring' && s.service_status !== 'Cancelled' && <AddBankAccount service={s} />}
        </div>
      </section>
      <PaymentMethods service={s} details={d} onChanged={reload} />
      {staff && (
        <>
          <OffSystemPayment
            service={s}
            details={d}
            onRecorded={() => {
              reload();
              setPaymentsVersion((v) => v + 1);
            }}
          />
          <PaymentsTable serviceId={sid} version={paymentsVersion} />
        </>
      )}
      {!staff && <PurchaseHistory serviceId={sid} mediums={d.mediums} />}
    </>
  );
}

const CARD_BEFORE = (serviceId: string) => `payrail.card-before.${serviceId.toLowerCase()}`;
const POLL_MS = 2000;
/** PayFast's notice of a new card comes within seconds: after this long without one, say nothing has changed. */
const UNCHANGED_AFTER_MS = 8_000;
/** Still looking this long, so that a notice later than that shows the new card without a reload. */
const POLL_FOR_MS = 60_000;

/** The last four digits of the card behind the service's active medium, as payrail knows it now. */
const activeCard = (service: Service, details: DetailsAndActions): string | null =>
  details.mediums.find((m) => m.medium_detail_id.toLowerCase() === service.active_medium_id?.toLowerCase())?.account_number ?? null;

/**
 * A HybridDayBundle's auto-recharge card is replaced on PayFast's page, which sends the browser back here
 * whether the customer saved a card or cancelled. The card we had is noted first, so that coming back can
 * say what really happened.
 */
function UpdateCard({ service, details }: { service: Service; details: DetailsAndActions }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const open = async () => {
    if (busy) return;
    if (!service.active_medium_id) {
      setError('This service has no card to update yet.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { pay_fast_url } = await get<{ pay_fast_url: string }>(`/payfast-payments/card-medium-update/${q(service.active_medium_id)}`);
      sessionStorage.setItem(CARD_BEFORE(service.id), activeCard(service, details) ?? '');
      const back = `${window.location.origin}/app/services/${service.id.toLowerCase()}?card=returned`;
      window.location.assign(`${pay_fast_url}${pay_fast_url.includes('?') ? '&' : '?'}return=${encodeURIComponent(back)}`);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="button secondary" onClick={open} disabled={busy}>
        {busy ? 'Opening PayFast…' : 'Update card'}
      </button>
      {error && <Alert>{error}</Alert>}
    </>
  );
}

type CardOutcome = { kind: 'waiting'; last4: string | null } | { kind: 'updated'; last4: string | null } | { kind: 'unchanged'; last4: string | null };

/**
 * Back from PayFast's card page. PayFast confirms a new card by notification, a moment later; until the
 * medium shows another card we say we are waiting, and after a few seconds that nothing has changed (a
 * cancel comes back to the same address), while still looking for a late notice for a minute.
 */
function CardUpdateResult({ service }: { service: Service }) {
  const before = sessionStorage.getItem(CARD_BEFORE(service.id));
  const [outcome, setOutcome] = useState<CardOutcome>({ kind: 'waiting', last4: before || null });
  useEffect(() => {
    let stopped = false;
    const started = Date.now();
    const check = async () => {
      try {
        const [s, d] = await Promise.all([get<Service>(`/services/${q(service.id)}`), get<DetailsAndActions>(`/services/${q(service.id)}/details-and-actions`)]);
        if (stopped) return;
        const now = activeCard(s, d);
        if (before !== null && now !== before) {
          sessionStorage.removeItem(CARD_BEFORE(service.id));
          return setOutcome({ kind: 'updated', last4: now });
        }
        if (before === null) return setOutcome({ kind: 'unchanged', last4: now });
        if (Date.now() - started >= UNCHANGED_AFTER_MS) setOutcome({ kind: 'unchanged', last4: now });
      } catch {
        // A missed check is retried on the next tick.
      }
      if (stopped) return;
      if (Date.now() - started < POLL_FOR_MS) timer = window.setTimeout(check, POLL_MS);
      else setOutcome((o) => (o.kind === 'waiting' ? { kind: 'unchanged', last4: before || null } : o));
    };
    let timer = window.setTimeout(check, 0);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [service.id]);

  const card = (last4: string | null) => (last4 ? `the card ending ${last4}` : 'your card');
  if (outcome.kind === 'updated') return <Notice tone="success">Your card was updated: payments now use {card(outcome.last4)}.</Notice>;
  if (outcome.kind === 'unchanged')
    return (
      <Notice>
        Payments still use {card(outcome.last4)}. If you cancelled on PayFast’s page, nothing changed; if you entered a new card, it shows here once PayFast
        confirms it.
      </Notice>
    );
  return (
    <Notice>
      <span className="spinner" aria-hidden="true" /> Checking with PayFast for your new card…
    </Notice>
  );
}
