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
 * An HS256 bearer token in payrail's claim shape (SPEC §3). In production tokens come from the
 * operator's identity provider; payrail signs its own only for sandbox demo users and tests.
 */
export function signToken(secret: Secret, claims: TokenClaims, ttlSeconds = 30 * 24 * 3600, now = Date.now()): string {
  const sign = createSigner({ key: secret.reveal(), algorithm: 'HS256', clockTimestamp: now, expiresIn: ttlSeconds * 1000 });
  return sign({
    sub: claims.sub,
    operator_id: claims.operatorId,
    role: claims.role,
    ...(claims.customerId ? { customer_id: claims.customerId } : {}),
  });
}
