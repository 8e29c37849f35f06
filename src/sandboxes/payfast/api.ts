import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { MAX_CENTS } from '../../domain/money.ts';
import type { App } from '../../http/route-kit.ts';
import { loseResponse, type LedgerRow } from '../kit/kit.ts';
import { sandboxTokens } from '../kit/schema.ts';
import { PAYFAST_SANDBOX_MERCHANT as MERCHANT } from '../../providers/payfast/credentials.ts';
import { bodyFields, sendApi, UUID, wellFormed } from './http.ts';
import { hadUnavailable, paymentState, PROVIDER, record, RESULTS, tokenRow, approveAdhoc } from './store.ts';
import { apiSignature, sameSignature } from '../../providers/payfast/signature.ts';
import { formatAmount } from '../../providers/payfast/transformers.ts';

/** The REST API under `/api`: every call signed (headers merchant-id, version, timestamp, signature). */

const header = (request: FastifyRequest, name: string): string | null => {
  const v = request.headers[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
};

/**
 * Checks the signature over headers, query and body fields plus the passphrase (sorted, PHP-encoded). The
 * `testing` query flag is accepted signed or unsigned: PayFast's SDKs disagree on it.
 */
async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  // An async hook that answers returns the reply, so Fastify stops there.
  const merchantId = header(request, 'merchant-id');
  const version = header(request, 'version');
  const timestamp = header(request, 'timestamp');
  const signature = header(request, 'signature');
  if (!merchantId || !version || !timestamp || !signature) return sendApi(reply, 401, { message: 'Missing required headers: merchant-id, version, timestamp and signature.' });
  if (version !== 'v1') return sendApi(reply, 400, { message: `Unsupported version ${version}; use v1.` });
  if (merchantId !== MERCHANT.merchantId) return sendApi(reply, 401, { message: 'Merchant authorization failed.' });
  if (Number.isNaN(Date.parse(timestamp))) return sendApi(reply, 400, { message: 'timestamp: must be an ISO-8601 date and time.' });
  const query = bodyFields(request.query ?? {});
  const body = request.body === undefined || request.body === null || request.body === '' ? {} : bodyFields(request.body);
  if (!query || !body) return sendApi(reply, 400, { message: 'Fields must be plain strings or numbers.' });
  const { testing, ...signedQuery } = query;
  const fields = { ...signedQuery, ...body, 'merchant-id': merchantId, version, timestamp };
  const candidates = [apiSignature(fields, MERCHANT.passphrase), ...(testing !== undefined ? [apiSignature({ ...fields, testing }, MERCHANT.passphrase)] : [])];
  if (!candidates.some((c) => sameSignature(signature, c))) return sendApi(reply, 401, { message: 'Signature mismatch: generated signature does not match submitted signature.' });
  return undefined;
}

const success = (txn: Pick<LedgerRow, 'id' | 'amountCents'>) => ({ response: true, message: `Transaction was successful(${RESULTS.approved.code})`, pf_payment_id: txn.id, amount: txn.amountCents });

interface Adhoc {
  amount: number;
  item_name: string;
  item_description: string | null;
  m_payment_id: string | null;
}

function parseAdhoc(body: unknown): Adhoc | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'The body must be a JSON object.';
  const b = body as Record<string, unknown>;
  const amount = typeof b.amount === 'string' && /^[0-9]{1,12}$/.test(b.amount) ? Number(b.amount) : b.amount;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_CENTS) return 'amount: must be a whole number of cents, more than 0.';
  if (typeof b.item_name !== 'string' || b.item_name.trim() === '' || b.item_name.length > 100) return 'item_name: is required (at most 100 characters).';
  if (b.item_description !== undefined && (typeof b.item_description !== 'string' || b.item_description.length > 255)) return 'item_description: at most 255 characters.';
  if (b.m_payment_id !== undefined && (typeof b.m_payment_id !== 'string' || b.m_payment_id.trim() === '' || b.m_payment_id.length > 100)) return 'm_payment_id: 1 to 100 characters.';
  const text = (v: unknown): string | null => (typeof v === 'string' ? wellFormed(v.trim()) : null);
  return { amount, item_name: text(b.item_name) as string, item_description: text(b.item_description), m_payment_id: text(b.m_payment_id) };
}

export function registerApiRoutes(scope: App, ctx: AppContext): void {
  const signed = { preHandler: authenticate };
  const tokenParam = (request: FastifyRequest): string | null => {
    const token = (request.params as { token: string }).token;
    return UUID.test(token) ? token : null;
  };

  scope.get('/api/ping', signed, async (_request, reply) => sendApi(reply, 200, { response: true, message: 'PayFast API' }));

  scope.post('/api/subscriptions/:token/adhoc', signed, async (request, reply) => {
    const input = parseAdhoc(request.body);
    if (typeof input === 'string') return sendApi(reply, 400, { message: input });
    const token = tokenParam(request);
    const details = { item_name: input.item_name, item_description: input.item_description };
    // An approving card is charged in one statement, which also finds an earlier approval of the m_payment_id.
    const charge = token ? await approveAdhoc(ctx, token, { mPaymentId: input.m_payment_id, amountCents: input.amount, details }) : null;
    if (!token || !charge || charge.card.status !== 'active') return sendApi(reply, 404, { message: 'Subscription not found.' });
    const { card, earlier, charged } = charge;
    // Idempotency: an m_payment_id PayFast has approved is answered with that approval, never charged again.
    if (earlier) return sendApi(reply, 200, success(earlier));
    const row = { merchantReference: input.m_payment_id, token, kind: 'token', amountCents: input.amount, cardBin: card.cardBin, cardLast4: card.cardLast4, details };
    const approve = () => record(ctx, { ...row, status: 'approved', resultCode: RESULTS.approved.code, resultDescription: RESULTS.approved.description });
    // A slow provider (PAYRAIL_SANDBOX_ANSWER_DELAY_MS): the card is charged at once, the answer comes later.
    const answer = async (code: number, data: Record<string, unknown>) => {
      if (ctx.config.sandboxes.answerDelayMs > 0) await sleep(ctx.config.sandboxes.answerDelayMs);
      return sendApi(reply, code, data);
    };
    switch (card.outcome) {
      case 'decline':
      case 'insufficient_funds': {
        const result = RESULTS[card.outcome];
        await record(ctx, { ...row, status: 'declined', resultCode: result.code, resultDescription: result.description });
        return answer(400, { response: false, message: result.description });
      }
      case 'lost_response':
        await approve();
        return loseResponse(reply, ctx.config.sandboxes.lostResponseAfterMs);
      case 'unavailable_once': {
        const seen = await hadUnavailable(ctx, input.m_payment_id ? { merchantReference: input.m_payment_id } : { token });
        if (!seen) {
          await record(ctx, { ...row, status: 'unavailable', resultCode: RESULTS.unavailable.code, resultDescription: RESULTS.unavailable.description });
          return sendApi(reply, 503, { message: 'Service unavailable: nothing was charged. Try again.' });
        }
        return answer(200, success((await approve()).row));
      }
      default:
        return answer(200, success(charged ?? (await approve()).row));
    }
  });

  scope.get('/api/subscriptions/:token/fetch', signed, async (request, reply) => {
    const token = tokenParam(request);
    const card = token ? await tokenRow(ctx, token) : null;
    if (!card) return sendApi(reply, 404, { message: 'Subscription not found.' });
    const active = card.status === 'active';
    return sendApi(reply, 200, { response: { token: card.token, status: active ? 1 : 2, status_text: active ? 'ACTIVE' : 'CANCELLED', status_reason: '', frequency: null, cycles: 0, run_date: null } });
  });

  scope.put('/api/subscriptions/:token/cancel', signed, async (request, reply) => {
    const token = tokenParam(request);
    const card = token ? await tokenRow(ctx, token) : null;
    if (!card) return sendApi(reply, 404, { message: 'Subscription not found.' });
    await ctx.database.db.update(sandboxTokens).set({ status: 'cancelled', updatedAt: ctx.clock() }).where(and(eq(sandboxTokens.provider, PROVIDER), eq(sandboxTokens.token, card.token)));
    return sendApi(reply, 200, { response: true, message: 'Subscription cancelled.' });
  });

  scope.get('/api/process/query/:id', signed, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const state = /^[\x20-\x7e]{1,100}$/.test(id) ? await paymentState(ctx, id, ctx.clock()) : null;
    if (!state) return sendApi(reply, 404, { message: 'Transaction not found.' });
    const gross = state.txn?.amountCents ?? state.session?.amountCents ?? 0;
    const params = (state.session?.params ?? {}) as Record<string, string>;
    return sendApi(reply, 200, {
      response: {
        m_payment_id: state.txn?.merchantReference ?? state.session?.merchantReference ?? null,
        pf_payment_id: state.txn?.id ?? null,
        payment_status: state.status,
        amount_gross: formatAmount(gross),
        item_name: (state.txn?.details as { item_name?: string } | undefined)?.item_name ?? params.item_name ?? null,
        result_description: state.txn?.resultDescription ?? null,
        created_at: (state.txn?.createdAt ?? state.session?.createdAt ?? null)?.toISOString() ?? null,
      },
    });
  });
}
