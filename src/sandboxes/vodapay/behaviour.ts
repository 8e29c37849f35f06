import { behaviourOf, type BehaviourSpec, type SandboxContext } from '../kit/kit.ts';
import { PROVIDER } from './merchant.ts';

/**
 * The VodaPay sandbox's settings (README.md, "Behaviour settings"), `PUT /sandbox/vodapay/behaviour`.
 */
export type VodaPayBehaviour = {
  /** A repeated traceId: answered with the original's result (`original`), or always 26 (`duplicate`, a stricter gateway). */
  repeat_answer: 'original' | 'duplicate';
  /** Notifications: stored and POSTed (`send`), or stored and never delivered (`drop`). */
  notifications: 'send' | 'drop';
  /** How long after the charge a notification is first sent. */
  notification_delay_ms: number;
};

export const BEHAVIOUR_DEFAULTS: VodaPayBehaviour = { repeat_answer: 'original', notifications: 'send', notification_delay_ms: 0 };

export function parseBehaviour(body: unknown): Partial<VodaPayBehaviour> | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'The body must be a JSON object of settings.';
  const out: Partial<VodaPayBehaviour> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'repeat_answer') {
      if (value !== 'original' && value !== 'duplicate') return 'repeat_answer: must be "original" or "duplicate".';
      out.repeat_answer = value;
    } else if (key === 'notifications') {
      if (value !== 'send' && value !== 'drop') return 'notifications: must be "send" or "drop".';
      out.notifications = value;
    } else if (key === 'notification_delay_ms') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 600_000) return 'notification_delay_ms: must be an integer from 0 to 600000.';
      out.notification_delay_ms = value;
    } else {
      return `${key}: is not a setting of the VodaPay sandbox (settings: ${Object.keys(BEHAVIOUR_DEFAULTS).join(', ')}).`;
    }
  }
  return out;
}

export const vodapayBehaviour: BehaviourSpec = { defaults: { ...BEHAVIOUR_DEFAULTS }, parse: parseBehaviour };

export const behaviourNow = (ctx: SandboxContext): Promise<VodaPayBehaviour> => behaviourOf(ctx, PROVIDER, BEHAVIOUR_DEFAULTS);
