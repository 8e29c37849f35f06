import type { AppContext } from '../../context.ts';
import { systemResolver } from '../../lib/host-resolver.ts';
import { httpFetch } from '../../lib/http-transport.ts';
import type { Connector, ConnectorContext, LookupInput, ProviderSettings } from '../../providers/contract.ts';
import { resolveSettings } from '../../providers/settings.ts';
import { eq, sql } from 'drizzle-orm';
import type { MediumType } from '../../domain/enums.ts';
import { mediums } from '../mediums/schema.ts';
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
export function lookupInputOf(payment: PaymentRow, token: string | null = null, about: AttemptParties = { customerId: null, mediumType: null }): LookupInput {
  if (payment.kind === 'allocation') throw new Error(`payment ${payment.id} is an allocation: there is nothing to look up`);
  return {
    kind: payment.kind,
    merchantReference: payment.merchantReference,
    providerReference: payment.providerReference,
    amount: { amountCents: payment.amountCents, currency: 'ZAR' },
    token,
    expiresAt: payment.expiresAt,
    startedAt: payment.createdAt,
    customerId: about.customerId,
    mediumType: about.mediumType,
    mandate: payment.mandate,
  };
}

/** Whom an attempt is for and what it charged: some providers look attempts up by them. */
export interface AttemptParties {
  customerId: string | null;
  mediumType: MediumType | null;
}

/** The customer an attempt's purchase is for, and the type of the medium it charged (one round trip). */
export async function partiesOfPayment(ctx: AppContext, payment: Pick<PaymentRow, 'purchaseId' | 'mediumId'>): Promise<AttemptParties> {
  const [row] = await ctx.database.db
    .select({ customerId: purchases.customerId, mediumType: mediums.mediumType })
    .from(purchases)
    .leftJoin(mediums, payment.mediumId ? eq(mediums.id, payment.mediumId) : sql`false`)
    .where(eq(purchases.id, payment.purchaseId));
  return { customerId: row?.customerId ?? null, mediumType: row?.mediumType ?? null };
}
