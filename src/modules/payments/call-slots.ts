import { and, eq } from 'drizzle-orm';
import type { AppContext } from '../../context.ts';
import { statement, run } from '../../db/statement.ts';
import type { Connector, LookupKind } from '../../providers/contract.ts';
import { providerCallSlots } from './schema.ts';

/**
 * Spacing of a provider's rate-limited look-ups (Peach answers two a minute): one shared row per provider
 * and kind holds the next instant a call may be made, claimed in one statement, so every process (and the
 * browser's return, and the janitor) spaces its calls together. A limit of n a minute allows one call every
 * 60/n seconds: never a burst the provider would refuse.
 */
const CLAIM = statement<'provider' | 'scope' | 'now' | 'nextAt'>(
  'payrail_claim_call_slot_v2',
  // A slot set further ahead than one spacing (a clock that jumped back) is stale: claimed as free.
  `INSERT INTO provider_call_slots (provider, scope, next_at) VALUES (:provider, :scope, :nextAt)
ON CONFLICT (provider, scope) DO UPDATE SET next_at = EXCLUDED.next_at
WHERE provider_call_slots.next_at <= :now OR provider_call_slots.next_at > EXCLUDED.next_at
RETURNING next_at`,
);

export type SlotClaim = { ok: true } | { ok: false; nextAt: Date };

/** The allowance for a kind of look-up: the operator's configured one, else the provider's published one. */
export function lookupsPerMinute(ctx: AppContext, connector: Connector, kind: LookupKind): number | null {
  const published = connector.timing.lookupsPerMinute?.[kind];
  if (published === undefined) return null;
  const key = connector.settings?.key;
  return (key ? ctx.config.providers[key]?.lookupsPerMinute : null) ?? published;
}

export async function claimLookupSlot(ctx: AppContext, connector: Connector, kind: LookupKind, now = ctx.clock()): Promise<SlotClaim> {
  const perMinute = lookupsPerMinute(ctx, connector, kind);
  if (perMinute === null) return { ok: true };
  const scope = `lookup:${kind}`;
  const nextAt = new Date(now.getTime() + Math.ceil(60_000 / perMinute));
  const claimed = await run(ctx.database.query, CLAIM, { provider: connector.id, scope, now, nextAt });
  if (claimed.length > 0) return { ok: true };
  const [slot] = await ctx.database.db
    .select({ nextAt: providerCallSlots.nextAt })
    .from(providerCallSlots)
    .where(and(eq(providerCallSlots.provider, connector.id), eq(providerCallSlots.scope, scope)));
  return { ok: false, nextAt: slot?.nextAt ?? nextAt };
}
