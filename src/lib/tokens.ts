import { createSigner } from 'fast-jwt';
import type { Role } from '../domain/enums.ts';
import type { Secret } from './secret.ts';

export interface TokenClaims {
  sub: string;
  operatorId: string;
  role: Role;
  customerId?: string | null;
}

/**
 * How long a token payrail signs itself lasts: a working day, like an identity provider's session. These
 * tokens end up in places others can read (the start-up banner in a log, a terminal's scroll-back), so
 * they must run out soon.
 */
export const SANDBOX_TOKEN_SECONDS = 12 * 3600;

/**
 * An HS256 bearer token in payrail's claim shape (SPEC §3). In production tokens come from the
 * operator's identity provider; payrail signs its own only for sandbox demo users and tests.
 */
export function signToken(secret: Secret, claims: TokenClaims, ttlSeconds = SANDBOX_TOKEN_SECONDS, now = Date.now()): string {
  const sign = createSigner({ key: secret.reveal(), algorithm: 'HS256', clockTimestamp: now, expiresIn: ttlSeconds * 1000 });
  return sign({
    sub: claims.sub,
    operator_id: claims.operatorId,
    role: claims.role,
    ...(claims.customerId ? { customer_id: claims.customerId } : {}),
  });
}
