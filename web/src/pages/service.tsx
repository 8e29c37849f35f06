import { useState } from 'react';
import { get, messageOf, q } from '../api';
import { OffSystemPayment } from '../components/off-system-payment';
import { PaymentsTable } from '../components/payments-table';
import { productName, ServiceFacts } from '../components/service-facts';
import { Alert, ErrorNote, Loading, Notice } from '../components/status';
import { SERVICE_TYPE } from '../format';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { Link } from '../router';
import { isStaff, type Session } from '../session';
import type { DetailsAndActions, Service } from '../types';

export function ServicePage({ id, session, cardUpdated }: { id: string; session: Session; cardUpdated: boolean }) {
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
      {cardUpdated && <Notice tone="success">Your card was updated</Notice>}
      <section className="card" aria-label="Service details" data-testid={`service-${sid}`}>
        <ServiceFacts service={s} details={d} />
        <div className="actions">
          {d.must_pay_info && (
            <Link to={`/app/services/${sid}/pay`} className="button primary">
              Make payment
            </Link>
          )}
          {d.can_buy_info?.can_buy && (
            <Link to={`/app/services/${sid}/buy`} className="button secondary">
              Buy now
            </Link>
          )}
          {s.service_type === 'HybridDayBundle' && <UpdateCard service={s} />}
        </div>
      </section>
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
    </>
  );
}

/** A HybridDayBundle's auto-recharge card is replaced on PayFast's page, which sends the browser back here. */
function UpdateCard({ service }: { service: Service }) {
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
      const back = `${window.location.origin}/app/services/${service.id.toLowerCase()}?card=updated`;
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
