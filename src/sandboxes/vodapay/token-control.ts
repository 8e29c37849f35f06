import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxTokens } from '../kit/schema.ts';
import { field, isObject, optString, Refusal, refuse, traceIdOf, UUID } from './fields.ts';
import { checkHeaders, postBoth, refusalAnswer, send } from './http.ts';
import { answer, messageOf, PROVIDER, transmissionDateTime, VODAPAY_SANDBOX_MERCHANT, type Code } from './merchant.ts';
import { vodapayMandates } from './schema.ts';

/**
 * `POST /V2/Token/{Block|Unblock|Cancel|Remove}` (the OpenAPI's Token_Control), body VodaPayGatewayToken
 * `{ echoData, paymentToken, traceId, tokenControlAction, customerId, digitalWalletId }`. Cancel ends a
 * recurring mandate for good: SubmitRecurring on it answers 56. Repeating an action already done answers 00.
 */
const ACTIONS = ['Block', 'Unblock', 'Cancel', 'Remove', 'SetDefault'] as const;
type Action = (typeof ACTIONS)[number];
type Status = 'active' | 'blocked' | 'cancelled' | 'removed';

/** The status an action leaves a token in, from each status; null: refused (56, no usable card record). */
const NEXT: Record<Exclude<Action, 'SetDefault'>, Record<Status, Status | null>> = {
  Block: { active: 'blocked', blocked: 'blocked', cancelled: null, removed: null },
  Unblock: { active: 'active', blocked: 'active', cancelled: null, removed: null },
  Cancel: { active: 'cancelled', blocked: 'cancelled', cancelled: 'cancelled', removed: null },
  Remove: { active: 'removed', blocked: 'removed', cancelled: 'removed', removed: null },
};

function actionOf(v: unknown): Action {
  // .NET binds an enum from its name or its number (its place in the list).
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < ACTIONS.length) return ACTIONS[v]!;
  const hit = typeof v === 'string' ? ACTIONS.find((a) => a.toLowerCase() === v.trim().toLowerCase()) : undefined;
  return hit ?? refuse(v === undefined ? 'tokenControlAction is required' : 'tokenControlAction must be Block, Unblock, Cancel, Remove or SetDefault');
}

export function registerTokenControl(scope: App, ctx: SandboxContext): void {
  const db = ctx.database.db;
  postBoth(scope, '/Token/:control', async (request, reply) => {
    const now = ctx.clock();
    const body = request.body;
    const refused = checkHeaders(request);
    if (refused) return send(reply, refusalAnswer(refused, body, now, 'initiate'));
    try {
      const control = (request.params as { control: string }).control;
      const pathAction = ACTIONS.find((a) => a.toLowerCase() === control.toLowerCase());
      if (!pathAction) refuse(`/Token/${control.slice(0, 20)} is not a token action`);
      if (!isObject(body)) refuse('the body must be a JSON object');
      const o = body as Record<string, unknown>;
      const action = actionOf(field(o, 'tokenControlAction'));
      if (action !== pathAction) refuse(`tokenControlAction ${action} does not match the path's ${pathAction}`);
      const traceId = traceIdOf(o);
      const echoData = optString(o, 'echoData', 9999) ?? null;
      const token = field(o, 'paymentToken');
      if (typeof token !== 'string' || !/^[0-9]{19}$/.test(token)) refuse('paymentToken must be a string of 19 digits');
      const customerId = optString(o, 'customerId', 255, 1) ?? null;
      const wallet = optString(o, 'digitalWalletId', 36) ?? null;
      if (wallet !== null && !UUID.test(wallet)) refuse('digitalWalletId must be a 36-character UUID');
      if (action === 'SetDefault') refuse('SetDefault is not available for recurring payment tokens', 'D1');

      const reply56 = (detail: string) => done('56', detail);
      const done = (code: Code, detail?: string) =>
        send(reply, answer({ echoData, responseCode: code, responseMessage: messageOf(code, detail), transmissionDateTime: transmissionDateTime(now, 'initiate'), sessionId: randomUUID(), transactionId: randomUUID(), traceId }));
      const [m] = await db.select().from(vodapayMandates).where(and(eq(vodapayMandates.paymentToken, token as string), eq(vodapayMandates.merchant, VODAPAY_SANDBOX_MERCHANT.apiKey))).limit(1);
      if (!m || m.status === 'removed') return reply56('unknown paymentToken');
      if ((customerId !== null && m.customerId !== null && customerId !== m.customerId) || (wallet !== null && m.digitalWalletId !== null && wallet.toLowerCase() !== m.digitalWalletId.toLowerCase())) {
        return reply56('the paymentToken is not this customer’s');
      }
      const next = NEXT[action as Exclude<Action, 'SetDefault'>][m.status as Status];
      if (next === null) return reply56(`the paymentToken is ${m.status}`);
      if (next !== m.status) {
        await ctx.database.transaction(async ({ db: tx }) => {
          await tx.update(vodapayMandates).set({ status: next, updatedAt: now }).where(eq(vodapayMandates.paymentToken, m.paymentToken));
          // The kit's token knows active and cancelled only: blocked is still a card on record.
          await tx.update(sandboxTokens).set({ status: next === 'active' || next === 'blocked' ? 'active' : 'cancelled', updatedAt: now }).where(and(eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.token, m.paymentToken)));
        });
      }
      return done('00');
    } catch (err) {
      if (err instanceof Refusal) return send(reply, refusalAnswer(err, body, now, 'initiate'));
      throw err;
    }
  });
}
