import { get, q } from '../api';
import { useLoad } from '../hooks/use-load';
import { Link } from '../router';
import { SERVICE_TYPE } from '../format';
import type { DetailsAndActions, Service } from '../types';
import { productName, ServiceFacts } from './service-facts';
import { SuspendedNote } from './suspended-note';

/** One service on the home page: its facts, "Pay now" when something is owed, and the way to its view. */
export function ServiceCard({ service }: { service: Service }) {
  const [details] = useLoad((signal) => get<DetailsAndActions>(`/services/${q(service.id)}/details-and-actions`, { signal }), [service.id]);
  const d = details.state === 'ready' ? details.data : null;
  const id = service.id.toLowerCase();
  return (
    <article className="card service-card" data-testid={`service-${id}`} aria-labelledby={`svc-${id}`} aria-busy={details.state === 'loading'}>
      <header className="card-head">
        <h2 id={`svc-${id}`}>{productName(service)}</h2>
        <p className="muted">{SERVICE_TYPE[service.service_type] ?? service.service_type}</p>
      </header>
      <SuspendedNote service={service} details={d} />
      <ServiceFacts service={service} details={d} />
      {details.state === 'error' && <p className="muted small">Could not load what is due on this service.</p>}
      <div className="actions">
        {d?.must_pay_info && (
          <Link to={`/app/services/${id}/pay`} className="button primary raised">
            Pay now
          </Link>
        )}
        {service.service_type === 'PrepaidUtility' && !d?.must_pay_info && d?.can_buy_info?.can_buy && (
          <Link to={`/app/services/${id}/electricity`} className="button primary raised">
            Buy electricity
          </Link>
        )}
        <Link to={`/app/services/${id}`} className="button secondary card-link">
          View service
        </Link>
      </div>
    </article>
  );
}
