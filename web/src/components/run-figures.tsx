import { dateTime, RUN_STATUS } from '../format';
import type { BillingRun, BillingRunDetail } from '../types';

/** What a run did, in the order it does it (README, Billing runs). */
const FIGURES: [keyof BillingRun, string][] = [
  ['purchases_created', 'Purchases created'],
  ['collections_started', 'Collections started'],
  ['retries_started', 'Retries started'],
  ['services_suspended', 'Services suspended'],
  ['services_reinstated', 'Services reinstated'],
  ['purchases_failed', 'Purchases failed'],
];

/** How the collections it queued went: the jobs work them after the run. */
const COLLECTIONS: [keyof BillingRunDetail['collections'], string][] = [
  ['queued', 'Waiting'],
  ['succeeded', 'Succeeded'],
  ['failed', 'Failed'],
  ['unsettled', 'Awaiting the provider'],
  ['skipped', 'Skipped'],
];

export function RunStatus({ status }: { status: BillingRun['status'] }) {
  return <span className={`badge badge-run-${status}`}>{RUN_STATUS[status] ?? status}</span>;
}

/** A run's figures and its collections, as the run's page and the form's answer show them. */
export function RunFigures({ run, level = 2 }: { run: BillingRunDetail; level?: 2 | 3 }) {
  const Heading = level === 2 ? 'h2' : 'h3';
  return (
    <div data-testid="run-figures">
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <RunStatus status={run.status} />
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{dateTime(run.started_at)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{run.finished_at ? dateTime(run.finished_at) : '—'}</dd>
        </div>
      </dl>
      <Heading className="subhead">
        What the run did
      </Heading>
      <dl className="facts figures">
        {FIGURES.map(([key, label]) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd data-testid={`figure-${key}`}>{run[key]}</dd>
          </div>
        ))}
      </dl>
      <Heading className="subhead">
        Its collections
      </Heading>
      <dl className="facts figures">
        {COLLECTIONS.map(([key, label]) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd data-testid={`collections-${key}`}>{run.collections[key]}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
