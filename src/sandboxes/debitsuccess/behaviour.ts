import { behaviourOf, type BehaviourSpec, type SandboxContext } from '../kit/kit.ts';
import { PROVIDER } from './merchant.ts';

/**
 * The Debitsuccess sandbox's settings (README.md, "Behaviour settings"), `PUT /sandbox/debitsuccess/behaviour`:
 * where the facility's webhook is, and how the callback spells TokenExpired.
 */
export type DebitsuccessBehaviour = {
  /** The facility's Webhook URL (agreed with Debitsuccess, not sent per request); null: payrail's own receiver. */
  webhookUrl: string | null;
  /** The callback's Status for a used or expired token: as the seed's table says, or as its example URL spells it. */
  tokenExpiredStatus: 'TokenExpired' | 'TokenExired';
};

export const BEHAVIOUR_DEFAULTS: DebitsuccessBehaviour = { webhookUrl: null, tokenExpiredStatus: 'TokenExpired' };

function httpUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function parseBehaviour(body: unknown): Partial<DebitsuccessBehaviour> | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'The body must be a JSON object of settings.';
  const out: Partial<DebitsuccessBehaviour> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'webhookUrl') {
      const url = value === null ? null : httpUrl(value);
      if (value !== null && url === null) return 'webhookUrl: must be an http(s) URL, or null for payrail’s own receiver.';
      out.webhookUrl = url;
    } else if (key === 'tokenExpiredStatus') {
      if (value !== 'TokenExpired' && value !== 'TokenExired') return 'tokenExpiredStatus: must be "TokenExpired" or "TokenExired".';
      out.tokenExpiredStatus = value;
    } else {
      return `${key}: is not a setting of the Debitsuccess sandbox (settings: ${Object.keys(BEHAVIOUR_DEFAULTS).join(', ')}).`;
    }
  }
  return out;
}

export const debitsuccessBehaviour: BehaviourSpec = { defaults: { ...BEHAVIOUR_DEFAULTS }, parse: parseBehaviour };

export const behaviourNow = (ctx: SandboxContext): Promise<DebitsuccessBehaviour> => behaviourOf(ctx, PROVIDER, BEHAVIOUR_DEFAULTS);

/** The facility's webhook: the setting, else payrail's Debitsuccess receiver (the sandbox's merchant is this payrail). */
export const webhookUrlOf = (ctx: SandboxContext, b: DebitsuccessBehaviour): string =>
  b.webhookUrl ?? `${ctx.config.sandboxes.merchantUrl ?? ctx.config.publicUrl}/callbacks/debitsuccess/webhook`;
