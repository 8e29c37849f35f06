import { get } from '../api';
import { ServiceCard } from '../components/service-card';
import { ErrorNote, Loading, ShowMore } from '../components/status';
import { usePages } from '../hooks/use-pages';
import { useTitle } from '../hooks/use-title';
import { isStaff, type Session } from '../session';
import type { Page, Service } from '../types';

/** Services per page: each card then asks for its own amount due, so a page stays small. */
const PAGE_SIZE = 20;

/** What needs attention comes first (a suspended service before one about to be); otherwise the API's order (newest first). */
const RANK: Record<string, number> = { Suspended: 0, InArrears: 1, PaidUp: 2 };
const owingFirst = (a: Service, b: Service) => (RANK[a.billing_status] ?? 3) - (RANK[b.billing_status] ?? 3);

const servicesPage = (cursor: string | null, signal?: AbortSignal) =>
  get<Page<Service>>(`/services?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { signal });

export function HomePage({ session }: { session: Session }) {
  const staff = isStaff(session.user);
  const heading = staff ? 'Services' : 'Your services';
  useTitle(heading);
  const { first, items: services, more } = usePages(servicesPage, [session.token]);
  // A customer's few services are ranked by what needs paying; staff see the operator's in the API's order.
  const shown = staff ? services : [...services].sort(owingFirst);
  return (
    <>
      <h1>{heading}</h1>
      {staff && <p className="muted">Every service of {session.user.operator_name ?? 'your operator'}, newest first.</p>}
      {first.state === 'loading' && <Loading />}
      {first.state === 'error' && <ErrorNote error={first.error} />}
      {first.state === 'ready' &&
        (shown.length === 0 ? (
          <p>{staff ? 'There are no services yet.' : 'You have no services yet.'}</p>
        ) : (
          <div className="card-list">
            {shown.map((s) => (
              <ServiceCard key={s.id} service={s} />
            ))}
          </div>
        ))}
      <ShowMore more={more} label="Show more services" />
    </>
  );
}
