import { useRef, useState } from 'react';
import { get, post, q } from '../api';
import { AmountForm } from '../components/amount-form';
import { BundleForm } from '../components/bundle-form';
import { productName } from '../components/service-facts';
import { Alert, ErrorNote, Loading, Notice } from '../components/status';
import type { BuyLine } from '../buy-math';
import { money, plural } from '../format';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { payErrorMessage } from '../pay-errors';
import { Link } from '../router';
import type { Session } from '../session';
import type { DetailsAndActions, Purchase, Service } from '../types';

/** Buy days ahead: a day bundle (options) or an amount on a monthly service (variable_amount). */
export function BuyNowPage({ serviceId }: { serviceId: string; session: Session }) {
  useTitle('Buy now');
  const [loaded] = useLoad(
    (signal) => Promise.all([get<Service>(`/services/${q(serviceId)}`, { signal }), get<DetailsAndActions>(`/services/${q(serviceId)}/details-and-actions`, { signal })]),
    [serviceId],
  );
  const [quote, setQuote] = useState<Purchase | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const sid = serviceId.toLowerCase();

  const back = (
    <p className="back">
      <Link to={`/app/services/${sid}`}>← Back to the service</Link>
    </p>
  );
  if (loaded.state === 'loading') return <Loading />;
  if (loaded.state === 'error') return (<>{back}<h1>Buy now</h1><ErrorNote error={loaded.error} /></>);
  const [service, details] = loaded.data;
  const info = details.can_buy_info;

  const getQuote = async (line: BuyLine) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(null);
    setQuote(null);
    try {
      const body = { service_id: service.id, customer_statement_ref: '', purchase_date: new Date().toISOString(), purchase_lines: [line] };
      setQuote((await post<Purchase>('/purchases/buy-now', body)).data);
    } catch (err) {
      setError(payErrorMessage(err));
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };
  const changed = () => {
    setQuote(null);
    setError(null);
  };

  let body;
  if (service.service_type === 'PrepaidUtility') {
    body = (
      <Notice>
        Electricity is bought by amount. <Link to={`/app/services/${sid}/electricity`}>Buy electricity</Link>
      </Notice>
    );
  } else if (details.must_pay_info) {
    body = (
      <Notice>
        Please pay what is due first. <Link to={`/app/services/${sid}/pay`}>Pay now</Link>
      </Notice>
    );
  } else if (!info?.can_buy) {
    body = <Notice>This service cannot buy ahead right now.</Notice>;
  } else if (info.options.length > 0) {
    body = <BundleForm options={info.options} periodEnd={details.latest_period_end_date} busy={busy} onChange={changed} onQuote={getQuote} />;
  } else if (info.variable_amount && info.variable_amount.kind !== 'utility') {
    body = <AmountForm va={info.variable_amount} periodEnd={details.latest_period_end_date} busy={busy} onChange={changed} onQuote={getQuote} />;
  } else {
    body = <Notice>There is nothing to buy on this service.</Notice>;
  }

  return (
    <>
      {back}
      <h1>Buy now</h1>
      <p className="muted">{productName(service)}</p>
      {body}
      {error && <Alert>{error}</Alert>}
      {quote && <QuoteCard quote={quote} serviceId={sid} />}
    </>
  );
}

function QuoteCard({ quote, serviceId }: { quote: Purchase; serviceId: string }) {
  const days = quote.purchase_lines.reduce((n, l) => n + l.quantity * l.period_contribution_per_quantity, 0);
  return (
    <section className="card quote" aria-labelledby="quote-h" data-testid="quote">
      <h2 id="quote-h" className="visually-hidden">
        Your quote
      </h2>
      <p className="quote-text" role="status">
        Quote: {plural(days, 'day')} for <span className="amount">{money(quote.amount)}</span>, VAT <span className="amount">{money(quote.tax_amount)}</span>
      </p>
      <Link to={`/app/services/${serviceId}/pay?purchaseId=${quote.id}`} className="button primary block">
        Pay for this quote
      </Link>
    </section>
  );
}
