import { useRef, useState, type FormEvent } from 'react';
import { ApiError, get, messageOf, request } from '../api';
import { RunFigures, RunStatus } from '../components/run-figures';
import { Alert, ErrorNote, Loading, Notice, ShowMore } from '../components/status';
import { date, dateTime, operatorToday } from '../format';
import { usePages } from '../hooks/use-pages';
import { useTitle } from '../hooks/use-title';
import { Link } from '../router';
import type { BillingRun, BillingRunDetail, Page } from '../types';

const PAGE_SIZE = 25;

const runsPage = (cursor: string | null, signal?: AbortSignal) =>
  get<Page<BillingRun>>(`/billing/runs?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { signal });

/** Staff: start a billing run for a date, and the runs so far, the latest first. */
export function BillingPage() {
  useTitle('Billing');
  // Bumped after a run is started, so the list shows it.
  const [version, setVersion] = useState(0);
  return (
    <>
      <h1>Billing</h1>
      <p className="muted">
        A billing run bills monthly services, collects, retries and suspends, all decided by one date. Running a date again changes nothing.
      </p>
      <StartRun onStarted={() => setVersion((v) => v + 1)} />
      <RunList version={version} />
    </>
  );
}

function StartRun({ onStarted }: { onStarted: () => void }) {
  const [asOf, setAsOf] = useState(operatorToday);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ run: BillingRunDetail; created: boolean } | null>(null);
  const inFlight = useRef(false);
  const input = useRef<HTMLInputElement>(null);

  const invalid = (message: string) => {
    setFieldError(message);
    input.current?.focus();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (inFlight.current) return;
    setError(null);
    setFieldError(null);
    setResult(null);
    const value = asOf.trim();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return invalid('Enter a date as YYYY-MM-DD.');
    inFlight.current = true;
    setBusy(true);
    try {
      const res = await request<BillingRunDetail>('POST', '/billing/runs', { body: { as_of: value } });
      setResult({ run: res.data, created: res.status === 201 });
      onStarted();
    } catch (err) {
      // The date's problem (after today, before the operator's first day, not a date) goes next to the field.
      const aboutDate = err instanceof ApiError && (err.problem.errors?.some((x) => /as_of/.test(x.name)) || err.status === 422);
      if (aboutDate) invalid(err.problem.detail || err.problem.errors?.[0]?.reason || 'This date cannot be run.');
      else setError(messageOf(err));
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="start-run-h">
      <h2 id="start-run-h">Start a billing run</h2>
      <form className="form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="as-of">Run billing for</label>
          <input
            ref={input}
            id="as-of"
            type="date"
            value={asOf}
            className="short"
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={fieldError ? 'as-of-error as-of-hint' : 'as-of-hint'}
            onChange={(e) => {
              setAsOf(e.target.value);
              setFieldError(null);
            }}
          />
          {fieldError && (
            <p id="as-of-error" className="field-error">
              {fieldError}
            </p>
          )}
          <p id="as-of-hint" className="hint">
            A date up to today (South African time). The run charges customers whose payments are due by then.
          </p>
        </div>
        {error && <Alert>{error}</Alert>}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Running…' : 'Start billing run'}
        </button>
      </form>
      {result && <RunResult {...result} />}
    </section>
  );
}

function RunResult({ run, created }: { run: BillingRunDetail; created: boolean }) {
  return (
    <div className="run-result" data-testid="run-result">
      <Notice tone={created ? 'success' : 'info'}>
        {created ? `Billing run for ${date(run.as_of)} completed.` : `${date(run.as_of)} was already run; nothing changed.`}
      </Notice>
      <RunFigures run={run} level={3} />
      <p>
        <Link to={`/app/billing/runs/${run.id}`}>See how this run’s collections go</Link>
      </p>
    </div>
  );
}

function RunList({ version }: { version: number }) {
  // A new run (version) starts the list again.
  const { first, items: runs, more } = usePages(runsPage, [version]);

  return (
    <section className="card" aria-labelledby="runs-h">
      <h2 id="runs-h">Billing runs</h2>
      {first.state === 'loading' && <Loading />}
      {first.state === 'error' && <ErrorNote error={first.error} />}
      {first.state === 'ready' &&
        (runs.length === 0 ? (
          <p className="muted">No billing runs yet.</p>
        ) : (
          <div className="table-scroll" role="region" aria-labelledby="runs-h" tabIndex={0}>
            <table className="table" data-testid="runs-table">
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="num">
                    Purchases
                  </th>
                  <th scope="col" className="num">
                    Collections
                  </th>
                  <th scope="col" className="num">
                    Retries
                  </th>
                  <th scope="col" className="num">
                    Suspended
                  </th>
                  <th scope="col" className="num">
                    Reinstated
                  </th>
                  <th scope="col" className="num">
                    Failed
                  </th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id}>
                    <td data-label="Date">
                      <Link to={`/app/billing/runs/${r.id}`}>{date(r.as_of)}</Link>
                    </td>
                    <td data-label="Status">
                      <RunStatus status={r.status} />
                    </td>
                    <td data-label="Purchases created" className="num">{r.purchases_created}</td>
                    <td data-label="Collections started" className="num">{r.collections_started}</td>
                    <td data-label="Retries started" className="num">{r.retries_started}</td>
                    <td data-label="Services suspended" className="num">{r.services_suspended}</td>
                    <td data-label="Services reinstated" className="num">{r.services_reinstated}</td>
                    <td data-label="Purchases failed" className="num">{r.purchases_failed}</td>
                    <td data-label="Started">{dateTime(r.started_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      <ShowMore more={more} label="Show more runs" />
    </section>
  );
}
