import { useEffect, useState } from 'react';
import { get, q } from '../api';
import { ServiceCard } from '../components/service-card';
import { ErrorNote, Loading, Notice } from '../components/status';
import { money } from '../format';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { Link } from '../router';
import { PurchaseStatus, type Purchase, type Service } from '../types';

const POLL_MS = 2000;
/** A hosted page's notice (PayFast's ITN) can trail the browser's return; after this we stop watching. */
const POLL_FOR_MS = 60_000;

/** Where payrail returns the browser after a payment: /app/ext-pay/{userId}/{purchaseId}/1|0. */
export function PaymentResultPage({ purchaseId, success }: { purchaseId: string; success: boolean }) {
  const heading = success ? 'Payment successful' : 'Payment failed';
  useTitle(heading);
  const [loaded, reload] = useLoad(
    async (signal) => {
      const purchase = await get<Purchase>(`/purchases/${q(purchaseId)}`, { signal });
      const service = await get<Service>(`/services/${q(purchase.service_id)}`, { signal });
      return { purchase, service };
    },
    [purchaseId],
  );
  const [gaveUp, setGaveUp] = useState(false);
  const purchase = loaded.state === 'ready' ? loaded.data.purchase : null;
  const waiting = success && purchase !== null && purchase.purchase_status_id !== PurchaseStatus.Paid;

  useEffect(() => {
    if (!waiting) return;
    const started = Date.now();
    const timer = window.setInterval(() => {
      if (Date.now() - started < POLL_FOR_MS) return reload();
      window.clearInterval(timer);
      setGaveUp(true);
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [waiting, reload]);

  const sid = purchase?.service_id.toLowerCase();
  const retry = purchase && sid ? `/app/services/${sid}/pay${purchase.purchase_status_id === PurchaseStatus.Quote ? `?purchaseId=${purchase.id}` : ''}` : null;

  return (
    <>
      <div className={`result result-${success ? 'ok' : 'fail'}`}>
        <span className="result-icon" aria-hidden="true">
          {success ? '✓' : '!'}
        </span>
        <h1>{heading}</h1>
        {purchase && success && purchase.purchase_status_id === PurchaseStatus.Paid && (
          <p>
            We received <span className="amount">{money(purchase.amount)}</span>. Thank you.
          </p>
        )}
        {!success && <p>Nothing was charged. You can try again.</p>}
      </div>
      {waiting && (
        <Notice>{gaveUp ? 'Your bank has not confirmed the payment yet. Your service will update as soon as it does.' : "We're confirming your payment with the bank…"}</Notice>
      )}
      {loaded.state === 'loading' && <Loading />}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {loaded.state === 'ready' && <ServiceCard key={purchase?.purchase_status_id} service={loaded.data.service} />}
      <div className="actions">
        {!success && retry && (
          <Link to={retry} className="button primary">
            Try again
          </Link>
        )}
        <Link to="/app" className="button secondary">
          Back to your services
        </Link>
      </div>
    </>
  );
}
