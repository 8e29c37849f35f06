import { DEMO } from '../src/demo/ids.ts';
import { Secret } from '../src/lib/secret.ts';
import { signToken } from '../src/lib/tokens.ts';

/**
 * The hot paths `npm run bench` loads, and the baselines they are compared with. To add a path, add a row
 * to SCENARIOS; if it makes a different number of database round trips than any baseline here, add a
 * baseline (a row in BASELINES and its route in baseline-server.ts) doing that many indexed queries.
 */

/** Fixed, so a run's tokens are reproducible; long enough for HS256 (payrail wants 32+ characters). */
export const JWT_SECRET = 'payrail-bench-jwt-secret-not-for-production-use';
/** 32 bytes in hex, for PAYRAIL_ENCRYPTION_KEY and the baseline server's token vault. */
export const ENCRYPTION_KEY = 'b3'.repeat(32);

export interface Baseline {
  name: string;
  /** Database round trips one request makes. */
  roundTrips: number;
  /** Path on the baseline server. */
  path: string;
}

export const BASELINES = {
  /** One indexed SELECT by primary key (services.id) through the driver payrail uses. */
  oneSelect: { name: 'one-select', roundTrips: 1, path: `/baseline/${DEMO.services.recurringInArrears}` },
} satisfies Record<string, Baseline>;

export type BaselineKey = keyof typeof BASELINES;

/** What a scenario's request factory may use. */
export interface RunContext {
  customerToken: string;
}

export interface Scenario {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers(run: RunContext): Record<string, string>;
  /** JSON body for writes; every request of the run sends the same one. */
  body?(run: RunContext): unknown;
  /** The bare-Fastify route making the same number of database round trips. */
  baseline: BaselineKey;
  /** Extra environment for the payrail process serving this scenario (scenarios sharing one share a process). */
  serverEnv?: Record<string, string>;
}

const asCustomer = (run: RunContext) => ({ authorization: `Bearer ${run.customerToken}` });

export const SCENARIOS: Scenario[] = [
  {
    // The Pay-Now screen reloading a service: served from the per-process cache after one indexed
    // version lookup (the database has the last word on whether it is still current).
    name: 'details-and-actions',
    method: 'GET',
    path: `/services/${DEMO.services.recurringInArrears.toUpperCase()}/details-and-actions`,
    headers: asCustomer,
    baseline: 'oneSelect',
  },
  {
    // The same with the cache off: every request runs the full one-round-trip read model (six tables).
    name: 'details-and-actions (cache off)',
    method: 'GET',
    path: `/services/${DEMO.services.recurringInArrears.toUpperCase()}/details-and-actions`,
    headers: asCustomer,
    baseline: 'oneSelect',
    serverEnv: { PAYRAIL_DETAILS_CACHE_SIZE: '0' },
  },
  {
    // One SQL round trip (payment_mediums_v1).
    name: 'payment-mediums',
    method: 'GET',
    path: `/payment-mediums?userId=${DEMO.customerUserId}`,
    headers: asCustomer,
    baseline: 'oneSelect',
  },
];

export function runContext(): RunContext {
  const customerToken = signToken(new Secret(JWT_SECRET), {
    sub: DEMO.customerUserId,
    operatorId: DEMO.operatorId,
    role: 'customer',
    customerId: DEMO.customerId,
  });
  return { customerToken };
}
