import { formatRand, type SandboxContext, type LedgerRow } from '../kit/kit.ts';
import { and, eq } from 'drizzle-orm';
import type { App } from '../../http/route-kit.ts';
import { sandboxTokens } from '../kit/schema.ts';
import { signed, tokenParam } from './api-auth.ts';
import { sendApi, UUID } from './http.ts';
import { latestAdhocCharge, PROVIDER, tokenRow, transaction } from './store.ts';

/**
 * The REST API under `/api` (besides ad hoc charges, adhoc.ts): ping, token fetch and cancel, and the
 * transaction query. Every call is signed (api-auth.ts).
 */

/** A ledger row's payment status. Only processed payments are transactions: a 503 (`unavailable`) and a card update are not. */
const QUERY_STATUS: Readonly<Partial<Record<string, 'COMPLETE' | 'FAILED'>>> = { approved: 'COMPLETE', declined: 'FAILED' };
const PAYMENT_KINDS = new Set(['hosted', 'token']);

/**
 * What `GET /process/query/{id}` finds: id is a pf_payment_id (that transaction) or a token (its most recent
 * processed ad hoc charge). Never an m_payment_id, and never a payment page's uuid: a page is found by the
 * pf_payment_id of the transaction it produced, so an unpaid page has nothing to find.
 */
async function queried(ctx: SandboxContext, id: string): Promise<LedgerRow | null> {
  const txn = UUID.test(id) ? await latestAdhocCharge(ctx, id) : /^[0-9]{1,20}$/.test(id) ? await transaction(ctx, id) : null;
  return txn && PAYMENT_KINDS.has(txn.kind) && QUERY_STATUS[txn.status] ? txn : null;
}

export function registerApiRoutes(scope: App, ctx: SandboxContext): void {
  scope.get('/api/ping', signed, async (_request, reply) => sendApi(reply, 200, { response: true, message: 'PayFast API' }));

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
    const txn = await queried(ctx, (request.params as { id: string }).id);
    if (!txn) return sendApi(reply, 404, { message: 'Transaction not found.' });
    return sendApi(reply, 200, {
      response: {
        m_payment_id: txn.merchantReference ?? '',
        pf_payment_id: txn.id,
        payment_status: QUERY_STATUS[txn.status],
        amount_gross: formatRand(txn.amountCents),
        item_name: (txn.details as { item_name?: unknown }).item_name ?? '',
        result_description: txn.resultDescription,
        created_at: txn.createdAt.toISOString(),
      },
    });
  });
}
