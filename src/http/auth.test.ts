import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../lib/secret.ts';
import { signToken } from '../lib/tokens.ts';
import { createTokenVerifier } from './auth.ts';

const OPERATOR = '00000000-0000-4000-8000-000000000099';
const USER = 'a40efeb6-7f8f-42c2-ba57-5f08328b1c28';
const CUSTOMER = '2e15812f-34d7-4903-898e-ed3dcc6704a1';

let server: Server;
let jwksUrl: string;
let key: CryptoKey;
let strangerKey: CryptoKey;
beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  jwksUrl = `http://127.0.0.1:${address.port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const rs256 = (signingKey: CryptoKey, claims: Record<string, unknown>, opts: { iss?: string; aud?: string; exp?: string } = {}) => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'idp-1' }).setSubject(USER).setExpirationTime(opts.exp ?? '5m');
  if (opts.iss) jwt.setIssuer(opts.iss);
  if (opts.aud) jwt.setAudience(opts.aud);
  return jwt.sign(signingKey);
};

describe("tokens from the operator's identity provider (JWKS, RS256)", () => {
  it('accepts a token signed by a key in the JWKS, with issuer and audience checked', async () => {
    const verify = createTokenVerifier({ secret: null, jwksUrl, issuer: 'https://idp.example', audience: 'payrail' });
    const token = await rs256(key, { operator_id: OPERATOR, role: 'customer', customer_id: CUSTOMER }, { iss: 'https://idp.example', aud: 'payrail' });
    expect(await verify(token)).toEqual({ sub: USER, operatorId: OPERATOR, role: 'customer', customerId: CUSTOMER });
  });

  it('refuses a token from another key, issuer or audience, an expired one, and HS256 without a secret', async () => {
    const verify = createTokenVerifier({ secret: null, jwksUrl, issuer: 'https://idp.example', audience: 'payrail' });
    const claims = { operator_id: OPERATOR, role: 'integrator' };
    for (const token of [
      await rs256(strangerKey, claims, { iss: 'https://idp.example', aud: 'payrail' }),
      await rs256(key, claims, { iss: 'https://evil.example', aud: 'payrail' }),
      await rs256(key, claims, { iss: 'https://idp.example', aud: 'someone-else' }),
      await rs256(key, claims, { iss: 'https://idp.example', aud: 'payrail', exp: '-1m' }),
      signToken(new Secret('x'.repeat(40)), { sub: USER, operatorId: OPERATOR, role: 'admin' }),
    ]) {
      await expect(verify(token)).rejects.toMatchObject({ status: 401 });
    }
  });

  it('takes both kinds when both are configured', async () => {
    const secret = new Secret('s'.repeat(40));
    const verify = createTokenVerifier({ secret, jwksUrl, issuer: null, audience: null });
    expect((await verify(await rs256(key, { operator_id: OPERATOR, role: 'admin' }))).role).toBe('admin');
    expect((await verify(signToken(secret, { sub: USER, operatorId: OPERATOR, role: 'integrator' }))).role).toBe('integrator');
  });
});
