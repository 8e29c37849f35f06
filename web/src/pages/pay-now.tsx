import { get, q } from '../api';
import { PayForm } from '../components/pay-form';
import { productName } from '../components/service-facts';
import { Alert, ErrorNote, Loading, Notice } from '../components/status';
import { money } from '../format';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { loadPayOptions } from '../pay-options';
import { Link } from '../router';
import { isStaff, type Session } from '../session';
import { PurchaseStatus, type DetailsAndActions, type Page, type Purchase, type Service } from '../types';

/** Seed 000's Pay-Now screen: what is due (or a buy-now quote), the mediums, and one Pay button. */
export function PayNowPage({ serviceId, purchaseId, session }: { serviceId: string; purchaseId: string | null; session: Session }) {
  useTitle('Pay now');
  const staff = isStaff(session.user);
  const [loaded] = useLoad(
    async (signal) => {
      const serviceP = get<Service>(`/services/${q(serviceId)}`, { signal });
      const detailsP = get<DetailsAndActions>(`/services/${q(serviceId)}/details-and-actions`, { signal });
      const [service, details, quote, options] = await Promise.all([
        serviceP,
        detailsP,
        purchaseId ? get<Purchase>(`/purchases/${q(purchaseId)}`, { signal }) : null,
        loadPayOptions(serviceId, session, serviceP, detailsP, signal),
      ]);
      let purchase = quote ?? details.must_pay_info?.arrears_purchase ?? null;
      // While an attempt is in flight the purchase is Submitted, not must-pay: find it, so it can be resumed or watched.
      if (!purchase && details.last_purchase_is_pending) {
        const recent = await get<Page<Purchase>>(`/purchases?serviceId=${q(serviceId)}`, { signal });
        purchase = recent.items.find((p) => p.purchase_status_id === PurchaseStatus.Submitted) ?? null;
      }
      return { service, details, purchase, ...options };
    },
    [serviceId, purchaseId, session.user.user_id, staff],
  );

  const sid = serviceId.toLowerCase();
  const back = (
    <p className="back">
      <Link to={`/app/services/${sid}`}>← Back to the service</Link>
    </p>
  );
  if (loaded.state === 'loading') return <Loading />;
  if (loaded.state === 'error') return (<>{back}<h1>Pay now</h1><ErrorNote error={loaded.error} /></>);
  const { service, purchase, mediums, activeId, newCards } = loaded.data;

  return (
    <>
      {back}
      <h1>Pay now</h1>
      <p className="muted">{productName(service)}</p>
      {!purchase ? (
        <Notice>Nothing is due on this service right now.</Notice>
      ) : purchase.service_id.toLowerCase() !== sid ? (
        <Alert>This purchase is not for this service.</Alert>
      ) : (
        <>
          <PurchaseSummary purchase={purchase} />
          {purchase.purchase_status_id === PurchaseStatus.Paid ? (
            <Notice tone="success">This purchase is already paid.</Notice>
          ) : purchase.purchase_status_id > PurchaseStatus.Quote ? (
            <Notice>
              This quote has expired. <Link to={`/app/services/${sid}/buy`}>Get a new quote</Link>
            </Notice>
          ) : (
            <>
              {purchase.purchase_status_id === PurchaseStatus.Submitted && <Notice>A payment for this purchase is already in progress.</Notice>}
              <PayForm service={service} purchase={purchase} mediums={mediums} activeId={activeId} session={session} newCards={newCards} />
            </>
          )}
        </>
      )}
    </>
  );
}

function PurchaseSummary({ purchase }: { purchase: Purchase }) {
  return (
    <section className="card amount-card" aria-labelledby="amount-label">
      <p id="amount-label" className="label">
        {purchase.purchase_status_id === PurchaseStatus.Quote ? 'Amount to pay' : 'Amount due'}
      </p>
      <p className="big-amount amount" data-testid="amount-due">
        {money(purchase.amount)}
      </p>
      <table className="lines">
        <caption className="visually-hidden">What you are paying for</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col" className="num">
              Qty
            </th>
            <th scope="col" className="num">
              Amount
            </th>
          </tr>
        </thead>
        <tbody>
          {purchase.purchase_lines.map((l) => (
            <tr key={l.id}>
              <td>{l.description}</td>
              <td className="num">{l.quantity}</td>
              <td className="num amount">{money(l.total_amount)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small muted">
        Includes VAT of <span className="amount">{money(purchase.tax_amount)}</span>.
      </p>
    </section>
  );
}
