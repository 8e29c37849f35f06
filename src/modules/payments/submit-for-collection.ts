import { eq } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import { PurchaseStatus, type Provider, type Role } from '../../domain/enums.ts';
import { ConnectorError } from '../../lib/errors.ts';
import type { AttemptResult } from '../../providers/contract.ts';
import { connectorContext } from './connector-context.ts';
import { loadTarget, planCollection } from './plan-collection.ts';
import { payments } from './schema.ts';
import { settlePayment, settleStarted, type PaymentRow } from './settle-payment.ts';
import { startAttempt } from './start-attempt.ts';
import { purchases } from '../purchases/schema.ts';

export interface SubmitForCollectionInput {
  serviceId: string;
  purchaseId: string;
  mediumId: string;
  successUrl: string | null;
  failureUrl: string | null;
  processImmediate: boolean;
  purchaseSourceId: string | null;
  comment: string | null;
}

export interface Caller {
  userId: string;
  operatorId: string;
  role: Role;
  customerId: string | null;
  actor: Actor;
}

export interface SubmitOutcome {
  /** Where to send the customer (hosted checkout, payment link); null for a token charge or an allocation. */
  paymentLinkUrl: string | null;
  /** The attempt, or null when collection was deferred to the purchase's date. */
  payment: PaymentRow | null;
  purchaseStatusId: number;
}

/**
 * Seed 000's "Submit Purchase For Collection" (SPEC §5): collect a purchase with a medium, exactly once.
 *
 * 1. One statement locks the purchase, refuses it if it is paid or has an attempt in flight (409 naming
 *    it), records a `pending` attempt and marks the purchase Submitted (start-attempt). A unique index
 *    backs the check, so concurrent submits on several processes still make one attempt.
 * 2. Outside any transaction the provider is asked (a stored token is charged, a checkout or payment
 *    link is created); the attempt's reference is the provider's idempotency key.
 * 3. The answer is settled (settle-payment). A crash between 2 and 3 leaves the attempt pending, and the
 *    janitor asks the provider what happened: nothing is charged twice and nothing is guessed.
 */
export async function submitForCollection(ctx: AppContext, caller: Caller, input: SubmitForCollectionInput): Promise<SubmitOutcome> {
  const db = ctx.database.db;
  const target = await loadTarget(ctx, caller, input);
  const { purchase } = target;
  const plan = await planCollection(ctx, caller, target, input);
  const now = ctx.clock();

  // Deferred: a future-dated purchase keeps the medium and is collected on its date.
  if (!input.processImmediate && plan.kind === 'token' && purchase.statusId === PurchaseStatus.Scheduled && purchase.purchaseDate > now) {
    await db.update(purchases).set({ mediumId: plan.medium.id, updatedAt: now }).where(eq(purchases.id, purchase.id));
    return { paymentLinkUrl: null, payment: null, purchaseStatusId: purchase.statusId };
  }

  const { attempt, allocation } = await startAttempt(ctx, caller, purchase.id, plan, input);
  if (allocation) return { paymentLinkUrl: null, payment: allocation.payment, purchaseStatusId: allocation.purchaseStatusId };
  const { payment } = attempt;

  const cctx = connectorContext(ctx, plan.provider);
  if (plan.kind === 'token') {
    let result: AttemptResult;
    try {
      const token = plan.sealedToken?.provider === plan.provider ? ctx.vault.open(plan.sealedToken.sealed, plan.medium.id) : null;
      if (!token) throw new ConnectorError('misconfigured', plan.provider, `Medium ${plan.medium.id} has no ${plan.provider} token.`);
      result = await plan.connector.chargeToken!(
        { merchantReference: payment.merchantReference, amount: { amountCents: payment.amountCents, currency: 'ZAR' }, token, description: describe(purchase), customer: target.customer },
        cctx,
      );
    } catch (err) {
      if (err instanceof ConnectorError && err.kind !== 'timeout') {
        // Refused before anything was sent: no money moved, so the attempt failed and the purchase is payable again.
        await settlePayment(ctx, { paymentId: payment.id, via: 'charge', actor: caller.actor, result: { status: 'failed', providerReference: null, failure: { code: err.code, message: err.message, kind: 'other' }, raw: null } });
        throw err;
      }
      ctx.log.error({ err, paymentId: payment.id }, 'charging a token ended without an answer: the outcome is unknown');
      result = { status: 'unknown', providerReference: null, raw: { error: 'no answer from the connector' } };
    }
    const settled = await settleStarted(ctx, { paymentId: payment.id, purchaseId: purchase.id, via: 'charge', actor: caller.actor, result }, attempt);
    return { paymentLinkUrl: null, payment: settled.payment, purchaseStatusId: settled.purchaseStatusId };
  }

  // Hosted checkout or payment link: nothing is charged until the customer completes the provider's page.
  const customer = target.customer;
  try {
    const checkoutInput = {
      merchantReference: payment.merchantReference,
      amount: { amountCents: payment.amountCents, currency: 'ZAR' as const },
      description: describe(purchase),
      customer,
      returnUrl: plan.successUrl!,
      cancelUrl: plan.failureUrl ?? plan.successUrl!,
      notificationUrl: notificationUrl(ctx, plan.provider),
      tokenise: plan.tokenise,
    };
    const session = plan.kind === 'hosted' ? await plan.connector.createCheckout!(checkoutInput, cctx) : await plan.connector.createPaymentLink!(checkoutInput, cctx);
    const [updated] = await db
      .update(payments)
      .set({ providerReference: session.providerReference, redirectUrl: session.redirectUrl, expiresAt: session.expiresAt, raw: session.raw as never, updatedAt: ctx.clock() })
      .where(eq(payments.id, payment.id))
      .returning();
    return { paymentLinkUrl: session.redirectUrl, payment: updated!, purchaseStatusId: PurchaseStatus.Submitted };
  } catch (err) {
    // Creating a page charges nothing: the attempt failed and the purchase is payable again.
    const code = err instanceof ConnectorError ? err.code : 'provider.unavailable';
    await settlePayment(ctx, { paymentId: payment.id, via: 'checkout', actor: caller.actor, result: { status: 'failed', providerReference: null, failure: { code, message: (err as Error).message, kind: 'other' }, raw: null } });
    if (err instanceof ConnectorError) throw err;
    throw new ConnectorError('unavailable', plan.provider, `${plan.provider} could not start the payment page.`, { cause: err });
  }
}

export const notificationUrl = (ctx: AppContext, provider: Provider): string =>
  provider === 'PayFast' ? `${ctx.config.publicUrl}/payfast-payments/itn` : `${ctx.config.publicUrl}/peach-payments/webhook`;

/** What the customer sees on their statement and the provider's page. */
const describe = (purchase: { smallKey: number }): string => `Purchase ${purchase.smallKey}`;
