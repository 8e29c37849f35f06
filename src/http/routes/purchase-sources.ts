import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { pageRequest, toPage } from '../../lib/pagination.ts';
import { createCollector, createPurchaseSource } from '../../modules/operators/create-collector.ts';
import { findCollector, listCollectors, listPurchaseSources } from '../../modules/operators/repo.ts';
import { errorResponses, Page, PageQuery, Uuid } from '../schemas/common.ts';
import { CollectorSchema, NewCollectorBody, NewPurchaseSourceBody, PurchaseSourceSchema } from '../schemas/setup.ts';
import { principalOf } from '../plugins/authentication.ts';
import { actorOf, secured, STAFF, type App } from '../route-kit.ts';
import { collectorView, purchaseSourceView } from '../setup-views.ts';

const SourcesQuery = Type.Object({
  collectorId: Uuid({ description: 'The collector' }),
  offSystem: Type.Optional(Type.Boolean({ description: 'true: only sources for off-system allocations' })),
});
const SourceList = Type.Array(Type.Object({ id: Uuid(), name: Type.String() }));

export function purchaseSourceRoutes(app: App, ctx: AppContext): void {
  async function sources(operatorId: string, collectorId: string, offSystem: boolean | undefined) {
    if (!(await findCollector(ctx.database.db, operatorId, collectorId))) throw new NotFoundError('collector', collectorId);
    const rows = await listPurchaseSources(ctx.database.db, collectorId, offSystem);
    return rows.map((s) => ({ id: s.id, name: s.name }));
  }

  const description =
    'The collector’s active purchase sources, by name (seed 000: Shop 2 Shop, EFT, Yoco, Cash, Payment Link). ' +
    'Seed 000 documents this as a POST; GET answers the same.';
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/purchases/sources',
      schema: {
        ...secured('Off-system'),
        summary: `Purchase sources of a collector${method === 'POST' ? ' (as seed 000 calls it)' : ''}`,
        description,
        querystring: SourcesQuery,
        response: { 200: SourceList, ...errorResponses(400, 401, 404) },
      },
      handler: async (request) => sources(principalOf(request).operatorId, request.query.collectorId, request.query.offSystem),
    });
  }

  app.post(
    '/collectors',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Setup'),
        summary: 'Create a collector with its purchase sources',
        body: NewCollectorBody,
        response: { 201: CollectorSchema, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const created = await createCollector(ctx, principalOf(request).operatorId, actorOf(request), {
        id: b.id,
        name: b.name,
        purchaseSources: b.purchase_sources?.map((s) => ({ id: s.id, name: s.name, offSystem: s.off_system })),
      });
      return reply.status(201).send(collectorView(created.collector, created.sources));
    },
  );

  app.get(
    '/collectors',
    {
      config: { roles: STAFF },
      schema: { ...secured('Setup'), summary: 'List collectors', querystring: Type.Object(PageQuery), response: { 200: Page(CollectorSchema), ...errorResponses(400, 401, 403) } },
    },
    async (request) => {
      const page = pageRequest(request.query);
      const rows = await listCollectors(ctx.database.db, principalOf(request).operatorId, page);
      const withSources = await Promise.all(rows.map(async (c) => ({ ...c, sources: await listPurchaseSources(ctx.database.db, c.id, undefined) })));
      return toPage(withSources, page, (c) => collectorView(c, c.sources));
    },
  );

  app.get(
    '/collectors/:id',
    {
      config: { roles: STAFF },
      schema: { ...secured('Setup'), summary: 'A collector', params: Type.Object({ id: Uuid() }), response: { 200: CollectorSchema, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request) => {
      const collector = await findCollector(ctx.database.db, principalOf(request).operatorId, request.params.id);
      if (!collector) throw new NotFoundError('collector', request.params.id);
      return collectorView(collector, await listPurchaseSources(ctx.database.db, collector.id, undefined));
    },
  );

  app.post(
    '/collectors/:id/purchase-sources',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Setup'),
        summary: 'Add a purchase source to a collector',
        params: Type.Object({ id: Uuid() }),
        body: NewPurchaseSourceBody,
        response: { 201: PurchaseSourceSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const source = await createPurchaseSource(ctx, principalOf(request).operatorId, actorOf(request), request.params.id, {
        id: request.body.id,
        name: request.body.name,
        offSystem: request.body.off_system,
      });
      return reply.status(201).send(purchaseSourceView(source));
    },
  );
}
