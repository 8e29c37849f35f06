import { sql } from 'drizzle-orm';
import { behaviourOf, type BehaviourSpec, type SandboxContext } from '../kit/kit.ts';
import { PROVIDER } from './merchant.ts';

/**
 * The vendor sandbox's settings (README.md, "Behaviour settings"), `PUT /sandbox/vendor/behaviour`.
 */
export type VendorBehaviour = {
  /** Meters ending 0408: the lost first answer is a held connection answered 504 with no body, or dropped. */
  lost_response: 'gateway_timeout' | 'drop';
  /** How long that connection is held; null: PAYRAIL_SANDBOX_LOST_RESPONSE_MS. */
  lost_response_ms: number | null;
  /** The next n purchases (and retries) fail before the vendor looks at them: no token, nothing recorded. */
  purchase_failures: number;
  purchase_failure_status: FailureStatus;
  /** The next n confirmations or reversals fail before they are recorded (store-and-forward tests). */
  advice_failures: number;
  advice_failure_status: FailureStatus;
};

export type FailureStatus = 500 | 501 | 503 | 504;
const STATUSES: readonly number[] = [500, 501, 503, 504];

export const BEHAVIOUR_DEFAULTS: VendorBehaviour = {
  lost_response: 'gateway_timeout',
  lost_response_ms: null,
  purchase_failures: 0,
  purchase_failure_status: 500,
  advice_failures: 0,
  advice_failure_status: 500,
};

const count = (key: string, value: unknown): number | string =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1_000 ? value : `${key}: must be an integer from 0 to 1000.`;
const status = (key: string, value: unknown): FailureStatus | string => (typeof value === 'number' && STATUSES.includes(value) ? (value as FailureStatus) : `${key}: must be one of ${STATUSES.join(', ')}.`);

export function parseBehaviour(body: unknown): Partial<VendorBehaviour> | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'The body must be a JSON object of settings.';
  const out: Partial<VendorBehaviour> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'lost_response') {
      if (value !== 'gateway_timeout' && value !== 'drop') return 'lost_response: must be "gateway_timeout" or "drop".';
      out.lost_response = value;
    } else if (key === 'lost_response_ms') {
      if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 600_000)) return 'lost_response_ms: must be null or an integer from 0 to 600000.';
      out.lost_response_ms = value as number | null;
    } else if (key === 'purchase_failures' || key === 'advice_failures') {
      const n = count(key, value);
      if (typeof n === 'string') return n;
      out[key] = n;
    } else if (key === 'purchase_failure_status' || key === 'advice_failure_status') {
      const s = status(key, value);
      if (typeof s === 'string') return s;
      out[key] = s;
    } else {
      return `${key}: is not a setting of the vendor sandbox (settings: ${Object.keys(BEHAVIOUR_DEFAULTS).join(', ')}).`;
    }
  }
  return out;
}

export const vendorBehaviour: BehaviourSpec = { defaults: { ...BEHAVIOUR_DEFAULTS }, parse: parseBehaviour };

export const behaviourNow = (ctx: SandboxContext): Promise<VendorBehaviour> => behaviourOf(ctx, PROVIDER, BEHAVIOUR_DEFAULTS);

/**
 * Takes one of the failures a setting asks for, atomically (one UPDATE, so concurrent requests in any number
 * of processes never take more than were set): the status to answer, or null when none is left.
 */
export async function takeFailure(ctx: SandboxContext, kind: 'purchase' | 'advice'): Promise<FailureStatus | null> {
  const counter = `${kind}_failures`;
  const result = await ctx.database.db.execute(sql`
    UPDATE sandbox.behaviours
       SET settings = jsonb_set(settings, ${`{${counter}}`}::text[], to_jsonb((settings->>${counter})::int - 1)), updated_at = now()
     WHERE provider = ${PROVIDER} AND COALESCE((settings->>${counter})::int, 0) > 0
     RETURNING settings->>${`${kind}_failure_status`} AS status`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { status: string | null }[];
  if (rows.length === 0) return null;
  const s = Number(rows[0]!.status ?? 500);
  return (STATUSES.includes(s) ? s : 500) as FailureStatus;
}
