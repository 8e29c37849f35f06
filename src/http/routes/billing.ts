import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { pageRequest, toPage } from '../../lib/pagination.ts';
import { findBillingRun, listBillingRuns, runBilling, type BillingRunRow, type BillingRunView } from '../../modules/billing/run-billing.ts';
import { errorResponses, IsoDate, Nullable, Page, PageQuery, Timestamp, Uuid } from '../schemas/common.ts';
import { actorOf, scopeOf, secured, STAFF, type App } from '../route-kit.ts';

const Figures = {
  id: Uuid(),
  as_of: IsoDate('The date the run decided everything by (operator’s calendar, South Africa)'),
  status: Type.Union([Type.Literal('running'), Type.Literal('completed')]),
  purchases_created: Type.Integer({ description: 'Monthly purchases of Recurring services created' }),
  collections_started: Type.Integer({ description: 'Collections queued on their due date: monthly purchases and auto-recharges' }),
  retries_started: Type.Integer({ description: 'Collections queued again on a retry day (the operator’s retry_days)' }),
  services_suspended: Type.Integer(),
  services_reinstated: Type.Integer({ description: 'Services the run’s collections reinstated (paid everything owed while Suspended)' }),
  purchases_failed: Type.Integer({ description: 'Auto-recharges given up on after their last attempt (Failed)' }),
  started_at: Timestamp(),
  finished_at: Nullable(Timestamp()),
};
const BillingRunSchema = Type.Object(Figures, { $id: 'BillingRun' });
const BillingRunDetailSchema = Type.Object(
  {
    ...Figures,
    collections: Type.Object(
      {
        queued: Type.Integer({ description: 'Not worked yet (or being worked)' }),
        succeeded: Type.Integer(),
        failed: Type.Integer(),
        unsettled: Type.Integer({ description: 'Sent, outcome not known yet: the janitor asks the provider' }),
        skipped: Type.Integer({ description: 'Nothing to collect by then (paid another way, an attempt in flight, no usable medium)' }),
      },
      { description: 'How the collections the run queued went (the jobs work them after the run)' },
    ),
  },
  { $id: 'BillingRunDetail' },
);

const runView = (r: BillingRunRow) => ({
  id: r.id,
  as_of: r.asOf,
  status: r.status,
  purchases_created: r.purchasesCreated,
  collections_started: r.collectionsStarted,
  retries_started: r.retriesStarted,
  services_suspended: r.servicesSuspended,
  services_reinstated: r.servicesReinstated,
  purchases_failed: r.purchasesFailed,
  started_at: r.startedAt.toISOString(),
  finished_at: r.finishedAt?.toISOString() ?? null,
});
const detailView = (r: BillingRunView) => ({ ...runView(r), collections: r.collections });

export function billingRoutes(app: App, ctx: AppContext): void {
  app.post(
    '/billing/runs',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Billing'),
        summary: 'Run billing for a date (integrators and admins)',
        description:
          'Everything is decided by `as_of` (SPEC §10): monthly purchases of Active Recurring services whose collection day has come (clamped to the ' +
          'month’s end), their collections with the plan’s active medium, retries on the operator’s `retry_days`, auto-recharges due, auto-recharges ' +
          'given up on, and suspensions of services still owing on their suspension date or whose day bundle has ended. Running a date again answers ' +
          'the run it made (200) and creates and charges nothing more. `as_of` may not be after today nor before the operator’s first day. ' +
          'The collections are queued and worked by the jobs; `GET /billing/runs/{id}` shows how they went.',
        body: Type.Object({ as_of: IsoDate('YYYY-MM-DD') }, { additionalProperties: false }),
        response: { 200: BillingRunDetailSchema, 201: BillingRunDetailSchema, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request, reply) => {
      const { operatorId } = scopeOf(request);
      const { run, created } = await runBilling(ctx, operatorId, request.body.as_of, actorOf(request));
      const view = await findBillingRun(ctx, operatorId, run.id);
      return reply.code(created ? 201 : 200).send(detailView(view!));
    },
  );

  app.get(
    '/billing/runs',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Billing'),
        summary: 'Billing runs, the latest first (integrators and admins)',
        querystring: Type.Object({ ...PageQuery }),
        response: { 200: Page(BillingRunSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const page = pageRequest(request.query);
      const rows = await listBillingRuns(ctx, scopeOf(request).operatorId, page);
      return toPage(rows.map((r) => ({ ...r, createdAt: r.startedAt })), page, runView);
    },
  );

  app.get(
    '/billing/runs/:id',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Billing'),
        summary: 'One billing run, with how its collections went (integrators and admins)',
        params: Type.Object({ id: Uuid() }),
        response: { 200: BillingRunDetailSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const run = await findBillingRun(ctx, scopeOf(request).operatorId, request.params.id);
      if (!run) throw new NotFoundError('billing_run', request.params.id);
      return detailView(run);
    },
  );
}
