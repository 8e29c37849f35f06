import { useRef, useState } from 'react';
import { ApiError, get, isAbort, post, q } from '../api';
import { ElectricityAmountForm } from '../components/electricity-amount-form';
import { PayForm } from '../components/pay-form';
import { productName } from '../components/service-facts';
import { Alert, ErrorNote, Loading, Notice } from '../components/status';
import { money } from '../format';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { loadPayOptions } from '../pay-options';
import { payErrorMessage } from '../pay-errors';
import { Link } from '../router';
import type { Session } from '../session';
import type { DetailsAndActions, Meter, Purchase, Service } from '../types';

/** The meter as the vendor knows it, or why it could not be looked up (which is not the page failing). */
type MeterLookup = { meter: Meter; error: null } | { meter: null; error: unknown };

/**
 * Prepaid electricity (SPEC §12): whose meter it is first, then an amount, a quote by amount, and the pay
 * form on the same page. Nothing can be paid for a meter the vendor does not know or could not check.
 */
export function BuyElectricityPage({ serviceId, session }: { serviceId: string; session: Session }) {
  useTitle('Buy electricity');
  const [loaded, reload] = useLoad(
    async (signal) => {
      const serviceP = get<Service>(`/services/${q(serviceId)}`, { signal });
      const detailsP = get<DetailsAndActions>(`/services/${q(serviceId)}/details-and-actions`, { signal });
      const meterP: Promise<MeterLookup> = get<Meter>(`/services/${q(serviceId)}/meter`, { signal }).then(
        (meter) => ({ meter, error: null }),
        (error: unknown) => {
          if (isAbort(error)) throw error;
          return { meter: null, error };
        },
      );
      const [service, details, lookup, options] = await Promise.all([serviceP, detailsP, meterP, loadPayOptions(serviceId, session, serviceP, detailsP, signal)]);
      return { service, details, lookup, options };
    },
    [serviceId, session.user.user_id],
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
  if (loaded.state === 'error') return (<>{back}<h1>Buy electricity</h1><ErrorNote error={loaded.error} /></>);
  const { service, details, lookup, options } = loaded.data;
  const va = details.can_buy_info?.variable_amount;

  const getQuote = async (amount: number) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(null);
    setQuote(null);
    try {
      setQuote((await post<Purchase>('/purchases/buy-now', { service_id: service.id, amount })).data);
    } catch (err) {
      setError(quoteErrorMessage(err));
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
  if (service.service_type !== 'PrepaidUtility') {
    body = (
      <Notice>
        This service is not prepaid electricity. <Link to={`/app/services/${sid}/buy`}>Buy now</Link>
      </Notice>
    );
  } else if (!lookup.meter) {
    body = <MeterProblem meterId={service.meter_id ?? (va?.kind === 'utility' ? va.meter_id : null)} error={lookup.error} onRetry={reload} />;
  } else if (details.must_pay_info) {
    body = (
      <Notice>
        Please pay what is due first. <Link to={`/app/services/${sid}/pay`}>Pay now</Link>
      </Notice>
    );
  } else if (!details.can_buy_info?.can_buy || va?.kind !== 'utility') {
    body = <Notice>{service.service_status === 'Cancelled' ? 'This service is cancelled: electricity cannot be bought for it.' : 'Electricity cannot be bought for this service right now.'}</Notice>;
  } else {
    body = (
      <>
        <ElectricityAmountForm va={va} busy={busy} onChange={changed} onQuote={getQuote} />
        {error && <Alert>{error}</Alert>}
        {quote && (
          <section className="card" aria-labelledby="pay-h" data-testid="quote">
            <h2 id="pay-h">Pay for your electricity</h2>
            <p className="quote-text" role="status">
              <span className="amount">{money(quote.amount)}</span> of electricity for meter <span className="mono-inline">{lookup.meter.meter_id}</span>
              <span className="small muted block">
                Includes VAT of <span className="amount">{money(quote.tax_amount)}</span>. Your token appears as soon as the payment goes through.
              </span>
            </p>
            <PayForm key={quote.id} service={service} purchase={quote} mediums={options.mediums} activeId={options.activeId} session={session} newCards={options.newCards} />
          </section>
        )}
      </>
    );
  }

  return (
    <>
      {back}
      <h1>Buy electricity</h1>
      <p className="muted">{productName(service)}</p>
      {lookup.meter && <MeterCard meter={lookup.meter} />}
      {body}
    </>
  );
}

/** Whose meter it is, before anyone pays: "Meter 01234567890 — Thandi Mokoena, 12 Long Street, …". */
function MeterCard({ meter }: { meter: Meter }) {
  const who = [meter.customer_name, meter.address].filter(Boolean).join(', ');
  return (
    <section className="card meter-card" aria-labelledby="meter-h" data-testid="meter">
      <h2 id="meter-h" className="visually-hidden">
        The meter
      </h2>
      <p className="meter-line">
        Meter <span className="mono-inline">{meter.meter_id}</span>
        {who ? ` — ${who}` : ''}
      </p>
      {meter.utility && <p className="small muted">{meter.utility}</p>}
      <p className="small">Check that this is the meter you want to buy for: a token works only on this meter.</p>
    </section>
  );
}

function MeterProblem({ meterId, error, onRetry }: { meterId: string | null; error: unknown; onRetry: () => void }) {
  const meter = meterId ? `meter ${meterId}` : 'this service’s meter';
  if (error instanceof ApiError && error.code === 'meter.unknown') {
    return (
      <Alert>
        The electricity vendor does not know {meter}, so electricity cannot be bought for it. Please check the meter number with your provider.
      </Alert>
    );
  }
  if (error instanceof ApiError && error.status === 503) {
    return (
      <>
        <Alert>The electricity vendor is not answering right now, so we cannot check {meter}. Nothing was charged; please try again in a few minutes.</Alert>
        <p>
          <button type="button" className="button secondary" onClick={onRetry}>
            Try again
          </button>
        </p>
      </>
    );
  }
  return <ErrorNote error={error} />;
}

/** A quote refused: the range, an unknown meter, the vendor down, something owed. */
function quoteErrorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'meter.unknown') return 'The electricity vendor does not know this meter, so electricity cannot be bought for it.';
    if (err.status === 503) return 'The electricity vendor is not answering right now. Nothing was charged; please try again in a few minutes.';
    if (err.code === 'purchase.amount_out_of_range' || err.code === 'purchase.buy_now_unavailable') return err.problem.detail || err.message;
  }
  return payErrorMessage(err);
}
