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

/**
 * Database round trips of one submit-for-collection with a stored card, counted on PostgreSQL (every
 * statement, BEGIN and COMMIT included), the in-process sandbox's own included: it is the provider.
 * COLLECTION_TARGET, START_ATTEMPT, the sandbox's ad hoc approval, PAY_FAST.
 */
export const SUBMIT_ROUND_TRIPS = 4;

export const BASELINES = {
  /** One indexed SELECT by primary key (services.id) through the driver payrail uses. */
  oneSelect: { name: 'one-select', roundTrips: 1, path: `/baseline/${DEMO.services.recurringInArrears}` },
  /** As many indexed SELECTs, one after the other, as a collection makes round trips. */
  collectionRoundTrips: { name: `${SUBMIT_ROUND_TRIPS}-selects`, roundTrips: SUBMIT_ROUND_TRIPS, path: `/baseline/${DEMO.services.recurringInArrears}?times=${SUBMIT_ROUND_TRIPS}` },
} satisfies Record<string, Baseline>;

export type BaselineKey = keyof typeof BASELINES;

/** What a scenario's request factory may use. */
export interface RunContext {
  customerToken: string;
  integratorToken: string;
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
  /**
   * Writes that must not repeat (a purchase is paid once): a body per request, made before the run. The
   * run then sends each exactly once, so it lasts as many requests as there are bodies, not a duration.
   */
  bodies?(base: string, run: RunContext, count: number): Promise<unknown[]>;
  /** How many bodies to make on each engine. */
  bodyCount?: Record<'pglite' | 'postgres', number>;
  /** Checks after the run (counts reported beside the figures; a non-zero `failures` fails the run). */
  check?(base: string, run: RunContext): Promise<{ failures: number } & Record<string, number>>;
}

const asCustomer = (run: RunContext) => ({ authorization: `Bearer ${run.customerToken}` });

/**
 * Orders placed through the setup API (50 at a time) for the demo customer, each a new service with an
 * unpaid upfront purchase; the run pays each once with the demo card. Many services, as in production:
 * payments for one service queue behind each other (its row is locked while a payment settles).
 */
async function upfrontPurchasesToPay(base: string, run: RunContext, count: number): Promise<unknown[]> {
  // PayFast sends an ITN for every ad hoc charge, and payrail verifies each (its validate service included):
  // BENCH_PAYFAST_ITN=off measures the collection alone.
  if (process.env.BENCH_PAYFAST_ITN === 'off') await fetch(`${base}/sandbox/payfast/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"itn":"off"}' });
  const bodies: unknown[] = [];
  const order = { customer_id: DEMO.customerId, product_id: DEMO.products.recurring, collector_id: DEMO.collectorId };
  const make = async () => {
    while (bodies.length < count) {
      const res = await fetch(`${base}/orders`, { method: 'POST', headers: { authorization: `Bearer ${run.integratorToken}`, 'content-type': 'application/json' }, body: JSON.stringify(order) });
      if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${await res.text()}`);
      const placed = (await res.json()) as { service: { id: string }; upfront_purchase: { id: string } };
      bodies.push({ service_id: placed.service.id, purchase_id: placed.upfront_purchase.id, medium_id: DEMO.mediums.card, success_url: null, failure_url: null, process_immediate_purchase: true });
    }
  };
  await Promise.all(Array.from({ length: 50 }, make));
  return bodies.slice(0, count);
}

/**
 * Zero double charges: every approved sandbox charge names its purchase (item_name "Purchase <small
 * key>"); no purchase may appear twice.
 */
async function noDoubleCharges(base: string): Promise<{ failures: number; charges: number; purchasesCharged: number; doubleCharges: number }> {
  const res = await fetch(`${base}/sandbox/payfast/transactions?status=approved`);
  const items = ((await res.json()) as { items: { details: { item_name?: string } }[] }).items;
  const purchases = new Set(items.map((i) => i.details.item_name));
  const doubleCharges = items.length - purchases.size;
  return { failures: doubleCharges, charges: items.length, purchasesCharged: purchases.size, doubleCharges };
}

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
  {
    // Pay Now with the demo card: the PayFast connector charges its token at the in-process sandbox over HTTP.
    name: 'submit-for-collection',
    method: 'POST',
    path: '/purchases/submit-for-collection',
    headers: asCustomer,
    baseline: 'collectionRoundTrips',
    bodies: upfrontPurchasesToPay,
    bodyCount: { pglite: 1_500, postgres: 8_000 },
    check: (base) => noDoubleCharges(base),
  },
];

export function runContext(): RunContext {
  const customerToken = signToken(new Secret(JWT_SECRET), {
    sub: DEMO.customerUserId,
    operatorId: DEMO.operatorId,
    role: 'customer',
    customerId: DEMO.customerId,
  });
  const integratorToken = signToken(new Secret(JWT_SECRET), { sub: DEMO.integratorUserId, operatorId: DEMO.operatorId, role: 'integrator' });
  return { customerToken, integratorToken };
}
