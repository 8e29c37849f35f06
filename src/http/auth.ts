import { createVerifier, TokenError } from 'fast-jwt';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config.ts';
import { Roles, type Role } from '../domain/enums.ts';
import { UnauthorizedError } from '../lib/errors.ts';
import { isUuid } from './schemas/common.ts';

/** The caller, from a verified bearer token (SPEC §3). */
export interface Principal {
  /** The user id (`sub`). */
  sub: string;
  operatorId: string;
  role: Role;
  /** Set for customers: the only customer whose data they may see. */
  customerId: string | null;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * HS256 with PAYRAIL_JWT_SECRET, and RS256/ES256 from the identity provider's JWKS when PAYRAIL_JWKS_URL
 * is set. Tokens must carry `exp`; `iss` and `aud` are checked when configured.
 */
export function createTokenVerifier(jwt: Config['jwt']): TokenVerifier {
  const hs256 = jwt.secret
    ? createVerifier({
        key: jwt.secret.reveal(),
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub'],
        cache: 1000,
        ...(jwt.issuer ? { allowedIss: jwt.issuer } : {}),
        ...(jwt.audience ? { allowedAud: jwt.audience } : {}),
      })
    : null;
  const jwks = jwt.jwksUrl ? createRemoteJWKSet(new URL(jwt.jwksUrl)) : null;

  return async (token) => {
    const alg = headerAlg(token);
    let payload: Record<string, unknown>;
    if (alg === 'HS256' && hs256) {
      try {
        payload = hs256(token) as Record<string, unknown>;
      } catch (err) {
        throw new UnauthorizedError(err instanceof TokenError && err.code === TokenError.codes.expired ? 'token expired' : 'invalid token');
      }
    } else if (alg !== null && alg !== 'HS256' && jwks) {
      try {
        const verified = await jwtVerify(token, jwks, {
          algorithms: ['RS256', 'ES256'],
          requiredClaims: ['exp', 'sub'],
          ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
          ...(jwt.audience ? { audience: jwt.audience } : {}),
        });
        payload = verified.payload as JWTPayload as Record<string, unknown>;
      } catch {
        throw new UnauthorizedError('invalid token');
      }
    } else {
      throw new UnauthorizedError('invalid token');
    }
    return principalFrom(payload);
  };
}

function headerAlg(token: string): string | null {
  const [header] = token.split('.');
  if (!header) return null;
  try {
    const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown };
    return typeof parsed.alg === 'string' ? parsed.alg : null;
  } catch {
    return null;
  }
}

/** Claims are checked as strictly as request bodies: a token is input too. */
function principalFrom(claims: Record<string, unknown>): Principal {
  const { sub, operator_id: operatorId, role, customer_id: customerId } = claims;
  if (typeof sub !== 'string' || !isUuid(sub)) throw new UnauthorizedError('invalid token claims');
  if (typeof operatorId !== 'string' || !isUuid(operatorId)) throw new UnauthorizedError('invalid token claims');
  if (typeof role !== 'string' || !(Roles as readonly string[]).includes(role)) throw new UnauthorizedError('invalid token claims');
  if (role === 'customer' && (typeof customerId !== 'string' || !isUuid(customerId))) {
    throw new UnauthorizedError('invalid token claims');
  }
  return {
    sub: sub.toLowerCase(),
    operatorId: operatorId.toLowerCase(),
    role: role as Role,
    customerId: role === 'customer' ? (customerId as string).toLowerCase() : null,
  };
}
