import { and, asc, eq, isNull, or } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { MediumType, Provider } from '../../domain/enums.ts';
import type { TokenVault } from '../../lib/token-vault.ts';
import { mediumCredentials, mediums } from './schema.ts';

export type MediumRow = typeof mediums.$inferSelect;

/**
 * The global "Add new payment method" medium (seed 000): a placeholder for paying through Peach
 * Payments' hosted checkout with a card that is not tokenised yet. Created by a migration.
 */
export const GLOBAL_OPAQUE_MEDIUM_ID = 'aa8b416b-a7d9-4bc0-af81-041722e11ad4';

/** A medium the operator can see: one of its customers', or the global one. */
export async function findMedium(db: Executor, operatorId: string, id: string): Promise<MediumRow | null> {
  const [row] = await db
    .select()
    .from(mediums)
    .where(and(eq(mediums.id, id), or(eq(mediums.operatorId, operatorId), isNull(mediums.operatorId))));
  return row ?? null;
}

export async function findCustomerMediumOfType(db: Executor, customerId: string, type: MediumType): Promise<MediumRow | null> {
  const [row] = await db
    .select()
    .from(mediums)
    .where(and(eq(mediums.customerId, customerId), eq(mediums.mediumType, type), eq(mediums.status, 'Valid')))
    .orderBy(asc(mediums.createdAt))
    .limit(1);
  return row ?? null;
}

export interface NewMedium extends Omit<typeof mediums.$inferInsert, 'provider'> {
  provider?: Provider | null;
}

/**
 * Store a medium, and its provider token sealed in `medium_credentials` (bound to the medium's id, so a
 * sealed token copied onto another medium will not open).
 */
export async function insertMedium(
  db: Executor,
  vault: TokenVault,
  medium: NewMedium & { id: string },
  token?: { provider: Provider; value: string; agreementReference?: string | null },
): Promise<MediumRow> {
  const [row] = await db.insert(mediums).values(medium).returning();
  if (token) {
    await db.insert(mediumCredentials).values({
      mediumId: medium.id,
      provider: token.provider,
      sealedToken: vault.seal(token.value, medium.id),
      tokenFingerprint: vault.fingerprint(token.provider, token.value),
      agreementReference: token.agreementReference ?? null,
    });
  }
  return row!;
}

/** The provider token of a medium, for its connector only. Never for a response or a log line. */
export async function revealMediumToken(db: Executor, vault: TokenVault, mediumId: string): Promise<{ provider: string; token: string } | null> {
  const [row] = await db.select().from(mediumCredentials).where(eq(mediumCredentials.mediumId, mediumId));
  if (!row) return null;
  return { provider: row.provider, token: vault.open(row.sealedToken, mediumId) };
}

/** The medium holding a provider token, found by the token's fingerprint (the token itself is never stored in the clear). */
export async function findMediumByToken(db: Executor, vault: TokenVault, provider: Provider, token: string): Promise<MediumRow | null> {
  const [row] = await db
    .select({ medium: mediums })
    .from(mediumCredentials)
    .innerJoin(mediums, eq(mediums.id, mediumCredentials.mediumId))
    .where(and(eq(mediumCredentials.provider, provider), eq(mediumCredentials.tokenFingerprint, vault.fingerprint(provider, token))))
    .limit(1);
  return row?.medium ?? null;
}

/** Tokens stored before fingerprints existed get theirs (run at start; a no-op once done). */
export async function backfillTokenFingerprints(db: Executor, vault: TokenVault): Promise<number> {
  const rows = await db.select().from(mediumCredentials).where(isNull(mediumCredentials.tokenFingerprint));
  for (const row of rows) {
    const token = vault.open(row.sealedToken, row.mediumId);
    await db.update(mediumCredentials).set({ tokenFingerprint: vault.fingerprint(row.provider, token) }).where(eq(mediumCredentials.mediumId, row.mediumId));
  }
  return rows.length;
}
