import { behaviourOf, type BehaviourSpec, type SandboxContext } from '../kit/kit.ts';
import { PROVIDER } from './shared.ts';

/**
 * The Peach sandbox's settings (`GET|PUT|DELETE /sandbox/peach/behaviour`, README.md): the shapes Peach's
 * webhooks come in. Peach sends them as a form post or as JSON, and gateways in between have been seen to
 * write the dotted field names with underscores; a merchant chooses the format in Peach's dashboard.
 */
export const WEBHOOK_FORMATS = ['form', 'form_underscore', 'json'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface PeachBehaviour extends Record<string, unknown> {
  webhookFormat: WebhookFormat;
}

export const PEACH_BEHAVIOUR_DEFAULTS: PeachBehaviour = { webhookFormat: 'form' };

const isFormat = (value: unknown): value is WebhookFormat => typeof value === 'string' && (WEBHOOK_FORMATS as readonly string[]).includes(value);

export const peachBehaviour: BehaviourSpec = {
  defaults: PEACH_BEHAVIOUR_DEFAULTS,
  parse(body) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object of settings';
    const settings: Partial<PeachBehaviour> = {};
    for (const [name, value] of Object.entries(body)) {
      if (name !== 'webhookFormat') return `unknown setting: ${name.slice(0, 60)} (the settings are: webhookFormat)`;
      if (!isFormat(value)) return `webhookFormat must be one of ${WEBHOOK_FORMATS.join(', ')}`;
      settings.webhookFormat = value;
    }
    return settings;
  },
};

/** The settings now in force. A stored value that is no longer valid falls back to the default. */
export async function currentBehaviour(ctx: SandboxContext): Promise<PeachBehaviour> {
  const stored = await behaviourOf(ctx, PROVIDER, PEACH_BEHAVIOUR_DEFAULTS);
  return { webhookFormat: isFormat(stored.webhookFormat) ? stored.webhookFormat : PEACH_BEHAVIOUR_DEFAULTS.webhookFormat };
}
