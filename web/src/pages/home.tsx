import { useState } from 'react';
import { get, messageOf } from '../api';
import { ServiceCard } from '../components/service-card';
import { Alert, ErrorNote, Loading } from '../components/status';
import { useLoad } from '../hooks/use-load';
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
  const [first] = useLoad((signal) => servicesPage(null, signal), [session.token]);
  // Later pages, loaded on request ("Show more services").
  const [more, setMore] = useState<{ items: Service[]; cursor: string | null } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);

  const cursor = more ? more.cursor : first.state === 'ready' ? first.data.next_cursor : null;
  const showMore = async () => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await servicesPage(cursor);
      setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], cursor: page.next_cursor }));
    } catch (err) {
      setMoreError(messageOf(err));
    } finally {
      setLoadingMore(false);
    }
  };

  const services = first.state === 'ready' ? [...first.data.items, ...(more?.items ?? [])] : [];
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
      {moreError && <Alert>{moreError}</Alert>}
      {cursor && first.state === 'ready' && (
        <p>
          <button type="button" className="button secondary block" onClick={showMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Show more services'}
          </button>
        </p>
      )}
    </>
  );
}
