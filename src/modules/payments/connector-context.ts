import type { AppContext } from '../../context.ts';
import { systemResolver } from '../../lib/host-resolver.ts';
import { httpFetch } from '../../lib/http-transport.ts';
import type { Connector, ConnectorContext, LookupInput, ProviderSettings } from '../../providers/contract.ts';
import { resolveSettings } from '../../providers/settings.ts';
import { eq } from 'drizzle-orm';
import { purchases } from '../purchases/schema.ts';
import type { PaymentRow } from './repo.ts';

/** A connector's settings now: configured hosts and credentials, else its built-in sandbox under the public URL. */
export function settingsOf(ctx: AppContext, connector: Connector): ProviderSettings {
  const declaration = connector.settings;
  return resolveSettings(declaration, declaration ? ctx.config.providers[declaration.key] : undefined, ctx.config);
}

/** What a connector gets per call: the provider's current settings (they follow the listening port). */
export function connectorContext(ctx: AppContext, connector: Connector): ConnectorContext {
  return {
    fetch: httpFetch,
    clock: ctx.clock,
    log: ctx.log.child({ provider: connector.id }),
    settings: settingsOf(ctx, connector),
    timeoutMs: ctx.config.collections.providerTimeoutMs,
    resolveHost: ctx.resolveHost ?? systemResolver,
  };
}

/** How an attempt is looked up at its provider (the one mapping of an attempt to a look-up). */
export function lookupInputOf(payment: PaymentRow, token: string | null = null, customerId: string | null = null): LookupInput {
  if (payment.kind === 'allocation') throw new Error(`payment ${payment.id} is an allocation: there is nothing to look up`);
  return {
    kind: payment.kind,
    merchantReference: payment.merchantReference,
    providerReference: payment.providerReference,
    amount: { amountCents: payment.amountCents, currency: 'ZAR' },
    token,
    expiresAt: payment.expiresAt,
    startedAt: payment.createdAt,
    customerId,
  };
}

/** The customer an attempt's purchase is for (a look-up by customer account needs it). */
export async function customerOfPayment(ctx: AppContext, payment: Pick<PaymentRow, 'purchaseId'>): Promise<string | null> {
  const [row] = await ctx.database.db.select({ customerId: purchases.customerId }).from(purchases).where(eq(purchases.id, payment.purchaseId));
  return row?.customerId ?? null;
}
