import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import type { App } from '../route-kit.ts';

export function healthRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['Operations'],
        summary: 'Liveness and database reachability',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), database: Type.String() }),
          503: Type.Object({ status: Type.Literal('unavailable'), database: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await ctx.database.query('SELECT 1');
        return { status: 'ok' as const, database: ctx.database.kind };
      } catch {
        return reply.status(503).send({ status: 'unavailable' as const, database: ctx.database.kind });
      }
    },
  );
}
