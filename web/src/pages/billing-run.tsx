import { useEffect } from 'react';
import { get, q } from '../api';
import { RunFigures } from '../components/run-figures';
import { ErrorNote, Loading } from '../components/status';
import { date } from '../format';
import { useLoad } from '../hooks/use-load';
import { useTitle } from '../hooks/use-title';
import { Link } from '../router';
import type { BillingRunDetail } from '../types';

const POLL_MS = 2000;
/** The jobs work a run's collections within moments; after this the page stops watching (Refresh still works). */
const POLL_FOR_MS = 60_000;

/** Staff: one billing run's figures, and how its collections are going. */
export function BillingRunPage({ id }: { id: string }) {
  const [loaded, reload] = useLoad((signal) => get<BillingRunDetail>(`/billing/runs/${q(id)}`, { signal }), [id]);
  const run = loaded.state === 'ready' ? loaded.data : null;
  useTitle(run ? `Billing run for ${date(run.as_of)}` : 'Billing run');
  const working = !!run && (run.status === 'running' || run.collections.queued > 0);

  useEffect(() => {
    if (!working) return;
    const started = Date.now();
    const timer = window.setInterval(() => {
      if (Date.now() - started < POLL_FOR_MS) reload();
      else window.clearInterval(timer);
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [working, reload]);

  const back = (
    <p className="back">
      <Link to="/app/billing">← Billing</Link>
    </p>
  );
  if (loaded.state === 'loading') return <Loading />;
  if (loaded.state === 'error') return (<>{back}<h1>Billing run</h1><ErrorNote error={loaded.error} /></>);
  const r = loaded.data;
  return (
    <>
      {back}
      <h1>Billing run for {date(r.as_of)}</h1>
      <section className="card" aria-label="Billing run">
        <RunFigures run={r} />
        <div className="actions">
          <button type="button" className="button secondary" onClick={reload}>
            Refresh
          </button>
        </div>
      </section>
    </>
  );
}
