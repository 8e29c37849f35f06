import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { PurchaseStatus } from '../../domain/enums.ts';
import { ConnectorError } from '../../lib/errors.ts';
import { groupWriter } from '../../lib/group-commit.ts';
import type { AttemptResult, CheckoutInput } from '../../providers/contract.ts';
import { purchases } from '../purchases/schema.ts';
import type { CollectInput, CollectionOutcome, Plan, Target } from './collection-types.ts';
import { connectorContext } from './connector-context.ts';
import { loadTarget, planCollection, targetOf, type TargetRow } from './plan-collection.ts';
import type { PaymentRow } from './repo.ts';
import { notificationUrl } from './return-urls.ts';
import { payments } from './schema.ts';
import { settlePayment, settleStarted, settleStartedMany, type Settlement, type SettleInput, type StartedAttempt } from './settle-payment.ts';
import { startAttempt, startAttempts } from './start-attempt.ts';

export type { CollectInput, CollectionActor, CollectionOutcome } from './collection-types.ts';

/**
 * Collects a purchase with a medium, exactly once: seed 000's "Submit Purchase For Collection", and the
 * same core for anything else that collects (billing runs, auto-recharges), whoever the actor is.
 *
 * 1. One statement locks the purchase, refuses it if it is paid or has an attempt in flight (409 naming
 *    it), records a `pending` attempt and marks the purchase Submitted (start-attempt). A unique index
 *    backs the check, so concurrent collections on several processes still make one attempt.
 * 2. Outside any transaction the provider is asked (a stored token is charged, a checkout or payment link
 *    is created), once; the attempt's reference is sent as the provider's merchant reference.
 * 3. The answer is settled (settle-payment). A crash between 2 and 3 leaves the attempt pending, and the
 *    janitor asks the provider what happened: nothing is charged twice and nothing is guessed.
 *
 * `read`: the target's row when the caller read it already (a billing worker reads a batch's in its claim);
 * it is checked against the input as a row read here would be.
 */
export async function collectPurchase(ctx: AppContext, input: CollectInput, read?: TargetRow): Promise<CollectionOutcome> {
  const target = read ? targetOf(read, input) : await loadTarget(ctx, input);
  const { purchase } = target;
  const plan = await planCollection(ctx, target, input);
  const now = ctx.clock();

  // Deferred: a future-dated purchase keeps the medium and is collected on its date.
  if (input.processImmediate === false && plan.kind === 'token' && purchase.statusId === PurchaseStatus.Scheduled && purchase.purchaseDate > now) {
    await ctx.database.db.update(purchases).set({ mediumId: plan.medium.id, updatedAt: now }).where(eq(purchases.id, purchase.id));
    return { paymentLinkUrl: null, payment: null, purchaseStatusId: purchase.statusId };
  }

  const { attempt, allocation } = await startAttempt(ctx, input, plan);
  if (allocation) return { paymentLinkUrl: null, payment: allocation.payment, purchaseStatusId: allocation.purchaseStatusId };
  return plan.kind === 'token' ? chargeToken(ctx, input, target, plan, attempt) : openSession(ctx, input, target, plan, attempt.payment);
}

/**
 * collectPurchase for several purchases at once (a billing worker's chunk), each exactly as collectPurchase
 * would collect it on its own, with the round trips shared: the stored-token charges' attempts are started
 * in one statement (startAttempts), then every provider is asked at once, and each answer is settled. Any
 * other collection (a page, a link, a deferral, a second purchase of one service) takes collectPurchase. The result
 * of each, in the items' order, is its outcome or the error collectPurchase would have thrown.
 */
export async function collectPurchases(ctx: AppContext, items: readonly { input: CollectInput; read: TargetRow }[]): Promise<PromiseSettledResult<CollectionOutcome>[]> {
  const results: PromiseSettledResult<CollectionOutcome>[] = new Array(items.length);
  const settle = async (i: number, outcome: Promise<CollectionOutcome>) => {
    results[i] = await outcome.then(
      (value) => ({ status: 'fulfilled', value }) as const,
      (reason: unknown) => ({ status: 'rejected', reason }) as const,
    );
  };
  const charges: { i: number; input: CollectInput; target: Target; plan: Plan }[] = [];
  const alone: number[] = [];
  const services = new Set<string>();
  await Promise.all(
    items.map(async ({ input, read }, i) => {
      try {
        const target = targetOf(read, input);
        const plan = await planCollection(ctx, target, input);
        // One purchase of a service a statement (startAttempts); the service's others are collected alone, after.
        const key = input.serviceId.toLowerCase();
        if (plan.kind !== 'token' || input.processImmediate === false || services.has(key)) return alone.push(i);
        services.add(key);
        charges.push({ i, input, target, plan });
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }),
  );
  let started: Awaited<ReturnType<typeof startAttempts>>;
  try {
    started = await startAttempts(ctx, charges);
  } catch (reason) {
    started = charges.map(() => reason as Error);
  }
  // Every provider asked at once; each answer settled as it comes, with the others that come meanwhile
  // (settleStartedMany, one statement for a group), so a notice racing its answer finds it settled.
  const settler = groupWriter<{ input: SettleInput; started: StartedAttempt }, Settlement | Error>({
    writeMany: (answers) => settleStartedMany(ctx, answers),
    // Settling is guarded by each attempt's status and its service's version: settling again writes nothing twice.
    retryAlone: () => true,
  });
  await Promise.all(
    charges.map(({ i, input, target, plan }, k) => {
      const attempt = started[k]!;
      const collected = async (): Promise<CollectionOutcome> => {
        if (attempt instanceof Error) throw attempt;
        const result = await askToCharge(ctx, input, target, plan, attempt);
        const settled = await settler.write({ input: { paymentId: attempt.payment.id, purchaseId: target.purchase.id, via: 'charge', actor: input.actor, result }, started: attempt });
        if (settled instanceof Error) throw settled;
        return { paymentLinkUrl: null, payment: settled.payment, purchaseStatusId: settled.purchaseStatusId };
      };
      return settle(i, collected());
    }),
  );
  // After the charges: a service's second purchase sees its first paid (or payable again), as it would in turn.
  await Promise.all(alone.map((i) => settle(i, collectPurchase(ctx, items[i]!.input, items[i]!.read))));
  return results;
}

/** A stored token charged now, and the answer settled. */
async function chargeToken(ctx: AppContext, input: CollectInput, target: Target, plan: Plan, attempt: StartedAttempt): Promise<CollectionOutcome> {
  const result = await askToCharge(ctx, input, target, plan, attempt);
  const settled = await settleStarted(ctx, { paymentId: attempt.payment.id, purchaseId: target.purchase.id, via: 'charge', actor: input.actor, result }, attempt);
  return { paymentLinkUrl: null, payment: settled.payment, purchaseStatusId: settled.purchaseStatusId };
}

/** The provider asked to charge a stored token. Refused before anything was sent: settled failed, and thrown. Sent without an answer: unknown. */
async function askToCharge(ctx: AppContext, input: CollectInput, target: Target, plan: Plan, attempt: StartedAttempt): Promise<AttemptResult> {
  const { payment } = attempt;
  let result: AttemptResult;
  try {
    const sealed = plan.sealedToken?.provider === plan.provider ? plan.sealedToken : null;
    const token = sealed ? ctx.vault.open(sealed.sealed, plan.medium.id) : null;
    if (!token) throw new ConnectorError('misconfigured', plan.provider, `Medium ${plan.medium.id} has no ${plan.provider} token.`);
    result = await plan.connector.chargeToken!(
      { merchantReference: payment.merchantReference, amount: { amountCents: payment.amountCents, currency: 'ZAR' }, token, agreementReference: sealed?.agreementReference ?? null, description: describe(target.purchase), customer: target.customer, mediumType: plan.medium.mediumType, notificationUrl: notificationUrl(ctx.config, ctx.connectors, plan.provider) },
      connectorContext(ctx, plan.connector),
    );
  } catch (err) {
    if (err instanceof ConnectorError && err.kind !== 'timeout') {
      // Refused before anything was processed: no money moved, so the attempt failed and the purchase is payable again.
      await settlePayment(ctx, { paymentId: payment.id, via: 'charge', actor: input.actor, result: { status: 'failed', providerReference: null, failure: { code: err.code, message: err.message, kind: 'other' }, raw: null } });
      throw err;
    }
    ctx.log.error({ err, paymentId: payment.id }, 'charging a token ended without an answer: the outcome is unknown');
    result = { status: 'unknown', providerReference: null, raw: { error: 'no answer from the connector' } };
  }
  return result;
}

/** A hosted page or payment link: nothing is charged until the customer completes the provider's page. */
async function openSession(ctx: AppContext, input: CollectInput, target: Target, plan: Plan, payment: PaymentRow): Promise<CollectionOutcome> {
  const checkout: CheckoutInput = {
    merchantReference: payment.merchantReference,
    amount: { amountCents: payment.amountCents, currency: 'ZAR' },
    description: describe(target.purchase),
    customer: target.customer,
    returnUrl: plan.successUrl!,
    cancelUrl: plan.failureUrl ?? plan.successUrl!,
    notificationUrl: notificationUrl(ctx.config, ctx.connectors, plan.provider),
    tokenise: plan.tokenise,
    mandate: plan.mandate ?? null,
  };
  try {
    const cctx = connectorContext(ctx, plan.connector);
    const session = plan.kind === 'hosted' ? await plan.connector.createCheckout!(checkout, cctx) : await plan.connector.createPaymentLink!(checkout, cctx);
    const [updated] = await ctx.database.db
      .update(payments)
      .set({ providerReference: session.providerReference, redirectUrl: session.redirectUrl, expiresAt: session.expiresAt, raw: session.raw as never, mandate: plan.mandate ?? null, updatedAt: ctx.clock() })
      .where(eq(payments.id, payment.id))
      .returning();
    return { paymentLinkUrl: session.redirectUrl, payment: updated!, purchaseStatusId: PurchaseStatus.Submitted };
  } catch (err) {
    // Creating a page charges nothing: the attempt failed and the purchase is payable again.
    const code = err instanceof ConnectorError ? err.code : 'provider.unavailable';
    await settlePayment(ctx, { paymentId: payment.id, via: 'checkout', actor: input.actor, result: { status: 'failed', providerReference: null, failure: { code, message: (err as Error).message, kind: 'other' }, raw: null } });
    if (err instanceof ConnectorError) throw err;
    throw new ConnectorError('unavailable', plan.provider, `${plan.provider} could not start the payment page.`, { cause: err });
  }
}

/** What the customer sees on their statement and the provider's page. */
const describe = (purchase: { smallKey: number }): string => `Purchase ${purchase.smallKey}`;
