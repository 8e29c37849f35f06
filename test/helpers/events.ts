import { SYSTEM_ACTOR, type AppContext } from '../../src/context.ts';
import { DEMO } from '../../src/demo/ids.ts';
import { createWebhookEndpoint } from '../../src/modules/webhooks/endpoints.ts';

/**
 * An enabled endpoint of the operator taking every event type (or `eventTypes`), so the outbox keeps the
 * events it is told of (it writes only the events an endpoint takes, webhooks/outbox-sql.ts) and a test can
 * read what a change reported. Nothing listens at its address: a test that runs the webhook jobs finds its
 * deliveries failing and retried, and may disable it (its deliveries then wait) to leave the jobs to its own.
 */
export async function takeEveryEvent(ctx: Pick<AppContext, 'database' | 'clock' | 'config' | 'vault'>, options: { operatorId?: string; eventTypes?: string[] } = {}): Promise<string> {
  const { endpoint } = await createWebhookEndpoint(ctx as AppContext, options.operatorId ?? DEMO.operatorId, SYSTEM_ACTOR, { url: 'http://127.0.0.1:9/every-event', eventTypes: options.eventTypes });
  return endpoint.id;
}
