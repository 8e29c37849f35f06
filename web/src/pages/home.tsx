import { getAll } from '../api';
import { ServiceCard } from '../components/service-card';
import { ErrorNote, Loading } from '../components/status';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { isStaff, type Session } from '../session';
import type { Service } from '../types';

/** What needs attention comes first; otherwise the API's order. */
const RANK: Record<string, number> = { InArrears: 0, Suspended: 1, PaidUp: 2 };
const owingFirst = (a: Service, b: Service) => (RANK[a.billing_status] ?? 3) - (RANK[b.billing_status] ?? 3);

export function HomePage({ session }: { session: Session }) {
  const staff = isStaff(session.user);
  const heading = staff ? 'Services' : 'Your services';
  useTitle(heading);
  const [services] = useLoad((signal) => getAll<Service>('/services', signal), [session.token]);
  return (
    <>
      <h1>{heading}</h1>
      {staff && <p className="muted">Every service of {session.user.operator_name ?? 'your operator'}.</p>}
      {services.state === 'loading' && <Loading />}
      {services.state === 'error' && <ErrorNote error={services.error} />}
      {services.state === 'ready' &&
        (services.data.length === 0 ? (
          <p>{staff ? 'There are no services yet.' : 'You have no services yet.'}</p>
        ) : (
          <div className="card-list">
            {[...services.data].sort(owingFirst).map((s) => (
              <ServiceCard key={s.id} service={s} />
            ))}
          </div>
        ))}
    </>
  );
}
