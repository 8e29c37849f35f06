import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { pageRequest, toPage } from '../../lib/pagination.ts';
import { createCustomer, createCustomerUser } from '../../modules/customers/create-customer.ts';
import { findCustomer, listCustomers, listUsersOfCustomer } from '../../modules/customers/repo.ts';
import { errorResponses, Page, PageQuery, Uuid } from '../schemas/common.ts';
import { CustomerSchema, NewCustomerBody, NewUserBody, UserSchema } from '../schemas/setup.ts';
import { actorOf, scopeOf, secured, STAFF, type App } from '../route-kit.ts';
import { customerView, userView } from '../setup-views.ts';

const Params = Type.Object({ id: Uuid({ description: 'Customer id' }) });

export function customerRoutes(app: App, ctx: AppContext): void {
  app.post(
    '/customers',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Setup'),
        summary: 'Create a customer (and its users)',
        body: NewCustomerBody,
        response: { 201: Type.Object({ customer: CustomerSchema, users: Type.Array(UserSchema) }), ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const created = await createCustomer(ctx, scopeOf(request).operatorId, actorOf(request), {
        id: b.id,
        name: b.name,
        email: b.email,
        cellNumber: b.cell_number,
        externalReference: b.external_reference,
        users: b.users,
      });
      return reply.status(201).send({ customer: customerView(created.customer), users: created.users.map(userView) });
    },
  );

  app.get(
    '/customers',
    {
      config: { roles: STAFF },
      schema: { ...secured('Setup'), summary: 'List customers, newest first', querystring: Type.Object(PageQuery), response: { 200: Page(CustomerSchema), ...errorResponses(400, 401, 403) } },
    },
    async (request) => {
      const page = pageRequest(request.query);
      return toPage(await listCustomers(ctx.database.db, scopeOf(request).operatorId, page), page, customerView);
    },
  );

  app.get(
    '/customers/:id',
    {
      schema: { ...secured('Setup'), summary: 'A customer (customers: only their own)', params: Params, response: { 200: CustomerSchema, ...errorResponses(400, 401, 404) } },
    },
    async (request) => {
      const scope = scopeOf(request);
      const customer = await findCustomer(ctx.database.db, scope.operatorId, request.params.id.toLowerCase(), scope.customerId);
      if (!customer) throw new NotFoundError('customer', request.params.id);
      return customerView(customer);
    },
  );

  app.get(
    '/customers/:id/users',
    {
      schema: { ...secured('Setup'), summary: 'Users of a customer', params: Params, response: { 200: Type.Array(UserSchema), ...errorResponses(400, 401, 404) } },
    },
    async (request) => {
      const scope = scopeOf(request);
      const id = request.params.id.toLowerCase();
      if (!(await findCustomer(ctx.database.db, scope.operatorId, id, scope.customerId))) throw new NotFoundError('customer', request.params.id);
      return (await listUsersOfCustomer(ctx.database.db, scope.operatorId, id)).map(userView);
    },
  );

  app.post(
    '/customers/:id/users',
    {
      config: { roles: STAFF },
      schema: {
        ...secured('Setup'),
        summary: 'Add a user who signs in for a customer',
        params: Params,
        body: NewUserBody,
        response: { 201: UserSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const user = await createCustomerUser(ctx, scopeOf(request).operatorId, actorOf(request), request.params.id.toLowerCase(), request.body);
      return reply.status(201).send(userView(user));
    },
  );
}
