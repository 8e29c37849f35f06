import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { DEMO } from '../../demo/ids.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { SANDBOX_TOKEN_SECONDS, signToken } from '../../lib/tokens.ts';
import { findUserWithOperator, listUsersWithOperator, type UserWithOperator } from '../../modules/customers/repo.ts';
import { findOperator } from '../../modules/operators/repo.ts';
import { principalOf } from '../plugins/authentication.ts';
import { secured, type App } from '../route-kit.ts';
import { errorResponses, Nullable, Timestamp, Uuid } from '../schemas/common.ts';
import { RoleSchema } from '../schemas/enums.ts';

/** The sign-in page lists at most this many users (the demo data has a handful). */
const SANDBOX_USERS_LISTED = 100;

const UserSchema = Type.Object({
  user_id: Uuid(),
  name: Nullable(Type.String({ description: 'null when the identity provider’s user is not known to payrail' })),
  role: RoleSchema,
  customer_id: Nullable(Uuid()),
  operator_id: Uuid(),
  operator_name: Nullable(Type.String()),
});

type UserView = { user_id: string; name: string | null; role: 'customer' | 'integrator' | 'admin'; customer_id: string | null; operator_id: string; operator_name: string | null };

const userView = (u: UserWithOperator): UserView => ({
  user_id: u.id,
  name: u.name,
  role: u.role,
  customer_id: u.customerId,
  operator_id: u.operatorId,
  operator_name: u.operatorName,
});

/**
 * Who is signed in (`GET /me`, any bearer token), and in sandbox mode the client interface's sign-in:
 * the users to choose from and a token for the one chosen. Outside sandbox mode tokens come from the
 * operator's identity provider and the sandbox routes do not exist.
 *
 * Sandbox sign-in needs no password, so it offers only the demo operator's users: an operator added to a
 * sandbox-mode payrail (a PostgreSQL trial with real data) is never one click away from anyone.
 */
export function signInRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/me',
    {
      schema: {
        ...secured('Operations'),
        summary: 'The signed-in user',
        description: 'Who the bearer token names, as payrail knows them. A token for a user payrail has no record of answers with its claims and a null name.',
        response: { 200: UserSchema, ...errorResponses(401) },
      },
    },
    async (request): Promise<UserView> => {
      const p = principalOf(request);
      const user = await findUserWithOperator(ctx.database.db, p.sub);
      if (user && user.operatorId === p.operatorId) return userView(user);
      const operator = await findOperator(ctx.database.db, p.operatorId);
      return { user_id: p.sub, name: null, role: p.role, customer_id: p.customerId, operator_id: p.operatorId, operator_name: operator?.name ?? null };
    },
  );

  const secret = ctx.config.jwt.secret;
  if (!ctx.config.sandbox || !secret) return;

  app.get(
    '/sandbox/sign-in',
    {
      config: { public: true },
      schema: {
        tags: ['Sandbox'],
        summary: 'Sandbox mode: the users the client interface offers to sign in as (the demo operator’s)',
        response: { 200: Type.Object({ items: Type.Array(UserSchema) }) },
      },
    },
    async () => {
      return { items: (await listUsersWithOperator(ctx.database.db, DEMO.operatorId, SANDBOX_USERS_LISTED)).map(userView) };
    },
  );

  app.post(
    '/sandbox/sign-in',
    {
      config: { public: true },
      schema: {
        tags: ['Sandbox'],
        summary: 'Sandbox mode: sign in as one of the demo operator’s users (a bearer token for 12 hours)',
        body: Type.Object({ user_id: Uuid() }, { additionalProperties: false }),
        response: { 200: Type.Object({ token: Type.String(), expires_date: Timestamp(), user: UserSchema }), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const row = await findUserWithOperator(ctx.database.db, request.body.user_id);
      // Another operator's user is answered exactly like an unknown one: its existence is not told.
      if (!row || row.operatorId !== DEMO.operatorId) throw new NotFoundError('user', request.body.user_id);
      const now = ctx.clock().getTime();
      const token = signToken(secret, { sub: row.id, operatorId: row.operatorId, role: row.role, customerId: row.customerId }, SANDBOX_TOKEN_SECONDS, now);
      return { token, expires_date: new Date(now + SANDBOX_TOKEN_SECONDS * 1000).toISOString(), user: userView(row) };
    },
  );
}
