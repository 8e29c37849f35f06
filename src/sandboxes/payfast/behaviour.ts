import { behaviourOf, type BehaviourSpec, type SandboxContext } from '../kit/kit.ts';
import { httpUrl } from './http.ts';
import { PROVIDER } from './store.ts';

/**
 * The PayFast sandbox's behaviour settings (README.md, "Behaviour settings"): PayFast's known misbehaviours,
 * switched on with `PUT /sandbox/payfast/behaviour`. Read once per request, so every payrail process sharing
 * the database sees a change at once.
 */
export type PayFastBehaviour = {
  /** How an approved ad hoc charge says so: `"response": "true"` (production) or `true` (seen on PayFast's sandbox host). */
  adhocSuccess: 'string' | 'boolean';
  /** How a declined ad hoc charge says so: `"response": "05"` or `"response": {"code": "05", "reason": "DO NOT HONOUR"}`. */
  declineShape: 'code' | 'object';
  /** ITN delivery: as PayFast means it, none at all, late, twice, or with the token's previous m_payment_id (issue #152). */
  itn: 'normal' | 'off' | 'late' | 'duplicate' | 'old_m_payment_id';
  /** How late a `late` ITN is, in milliseconds. */
  itnDelayMs: number;
  /** `/eng/query/validate` as meant, or the HTML 403 page seen in production (issue #320). */
  validate: 'normal' | 'html_403';
  /** The merchant account's default notify URL; null: payrail's own PayFast ITN receiver. */
  notifyUrl: string | null;
};

export const BEHAVIOUR_DEFAULTS: PayFastBehaviour = { adhocSuccess: 'string', declineShape: 'code', itn: 'normal', itnDelayMs: 2_000, validate: 'normal', notifyUrl: null };

/** An hour: later than PayFast's second ITN attempt (10 minutes), and well inside a timer's range. */
const MAX_DELAY_MS = 3_600_000;

const CHOICES = {
  adhocSuccess: ['string', 'boolean'],
  declineShape: ['code', 'object'],
  itn: ['normal', 'off', 'late', 'duplicate', 'old_m_payment_id'],
  validate: ['normal', 'html_403'],
} as const satisfies Partial<Record<keyof PayFastBehaviour, readonly string[]>>;

/** A `PUT /behaviour` body: a JSON object naming only known settings, each with an allowed value; else what is wrong. */
export function parseBehaviour(body: unknown): Partial<PayFastBehaviour> | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'The body must be a JSON object of settings.';
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (Object.hasOwn(CHOICES, key)) {
      const allowed: readonly string[] = CHOICES[key as keyof typeof CHOICES];
      if (typeof value !== 'string' || !allowed.includes(value)) return `${key}: must be one of ${allowed.map((v) => `"${v}"`).join(', ')}.`;
      out[key] = value;
    } else if (key === 'itnDelayMs') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_DELAY_MS) return `itnDelayMs: must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}.`;
      out[key] = value;
    } else if (key === 'notifyUrl') {
      const url = value === null ? null : httpUrl(value);
      if (value !== null && url === null) return 'notifyUrl: must be an http(s) URL, or null for payrail’s own ITN receiver.';
      out[key] = url;
    } else {
      return `${key}: is not a setting of the PayFast sandbox (settings: ${Object.keys(BEHAVIOUR_DEFAULTS).join(', ')}).`;
    }
  }
  return out;
}

export const payfastBehaviour: BehaviourSpec = { defaults: { ...BEHAVIOUR_DEFAULTS }, parse: parseBehaviour };

export const behaviourNow = (ctx: SandboxContext): Promise<PayFastBehaviour> => behaviourOf(ctx, PROVIDER, BEHAVIOUR_DEFAULTS);

/**
 * The merchant account's default notify URL (a PayFast account has one in its settings), where an ITN goes when
 * neither the payment nor its token names one. The built-in sandbox's merchant is this payrail, so by default it
 * is payrail's own PayFast ITN receiver.
 */
export const merchantNotifyUrl = (ctx: SandboxContext, behaviour: PayFastBehaviour): string => behaviour.notifyUrl ?? `${ctx.config.sandboxes.merchantUrl ?? ctx.config.publicUrl}/callbacks/payfast/itn`;
