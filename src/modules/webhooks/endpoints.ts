import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, getTableColumns, inArray } from 'drizzle-orm';
import type { Actor, AppContext } from '../../context.ts';
import type { Executor } from '../../db/client.ts';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError, type FieldError } from '../../lib/errors.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { recordAudit, type AuditEntry } from '../audit/record.ts';
import { outboxRow } from './enqueue-event.ts';
import { EVENT_TYPE_NAMES, isEventType, type EventType } from './event-types.ts';
import { outboxEvents, webhookAttempts, webhookDeliveries, webhookEndpoints } from './schema.ts';
import { checkTarget, systemResolver } from './target-policy.ts';

/**
 * An operator's webhook endpoints (the setup API) and their delivery log. A signing secret is made
 * here, sealed at rest (bound to its endpoint id), and handed out only by create and rotate.
 */
export type WebhookEndpoint = Omit<typeof webhookEndpoints.$inferSelect, 'sealedSecret'>;
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect & { eventType: string; log: WebhookAttemptRow[] };

type Ctx = Pick<AppContext, 'database' | 'vault' | 'config' | 'clock' | 'resolveHost'>;

export interface WebhookEndpointInput {
  url?: string;
  description?: string | null;
  eventTypes?: string[];
  enabled?: boolean;
}

/** The vault context of an endpoint's secret: a sealed secret copied to another endpoint won't open. */
export const webhookSecretContext = (endpointId: string): string => `webhook-endpoint:${endpointId}`;
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

const ENTITY: AuditEntry['entityType'] = 'webhook_endpoint';
const { sealedSecret: _sealed, ...publicColumns } = getTableColumns(webhookEndpoints);

/** Refuse what cannot be delivered to: not http(s), credentials in the URL, plain http outside sandbox mode. */
function validate(input: WebhookEndpointInput, sandbox: boolean): EventType[] | undefined {
  const errors: FieldError[] = [];
  if (input.url !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(input.url);
    } catch {
      errors.push({ name: 'body.url', reason: 'must be an absolute http or https URL' });
    }
    if (url && url.protocol !== 'https:' && url.protocol !== 'http:') errors.push({ name: 'body.url', reason: 'must be an http or https URL' });
    else if (url && url.protocol === 'http:' && !sandbox) errors.push({ name: 'body.url', reason: 'must be an https URL (plain http is allowed only in sandbox mode)' });
    if (url && (url.username || url.password)) errors.push({ name: 'body.url', reason: 'must not contain a user name or password' });
  }
  input.eventTypes?.forEach((t, i) => {
    if (!isEventType(t)) errors.push({ name: `body.event_types[${i}]`, reason: `"${t}" is not an event type (known: ${EVENT_TYPE_NAMES.join(', ')})` });
  });
  if (errors.length > 0) throw new ValidationError(`The webhook endpoint is not valid: ${errors.map((e) => `${e.name} ${e.reason}`).join('; ')}.`, errors);
  return input.eventTypes === undefined ? undefined : [...new Set(input.eventTypes as EventType[])];
}

/** A well-formed URL that leads somewhere webhooks must not go (payrail's host, its network, cloud metadata). */
async function refuseForbiddenTarget(ctx: Ctx, url: string | undefined): Promise<void> {
  if (url === undefined) return;
  const verdict = await checkTarget(new URL(url), { sandbox: ctx.config.sandbox, allowedHosts: ctx.config.webhooks.allowedHosts }, ctx.resolveHost ?? systemResolver);
  if (verdict.ok) return;
  const reason = `must lead to a public internet address: ${verdict.reason} (an internal host that is meant can be listed in PAYRAIL_WEBHOOK_ALLOWED_HOSTS)`;
  throw new UnprocessableError('webhook_endpoint.forbidden_target', `The webhook endpoint's URL ${reason}.`, { errors: [{ name: 'body.url', reason }] });
}

export async function createWebhookEndpoint(ctx: Ctx, operatorId: string, actor: Actor, input: WebhookEndpointInput & { url: string }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const eventTypes = validate(input, ctx.config.sandbox) ?? [];
  await refuseForbiddenTarget(ctx, input.url);
  const id = randomUUID();
  const secret = newSecret();
  const now = ctx.clock();
  return ctx.database.db.transaction(async (tx) => {
    const [endpoint] = await tx
      .insert(webhookEndpoints)
      .values({ id, operatorId, url: input.url, description: input.description ?? null, eventTypes, enabled: input.enabled ?? true, sealedSecret: ctx.vault.seal(secret, webhookSecretContext(id)), createdAt: now, updatedAt: now })
      .returning(publicColumns);
    await recordAudit(tx, actor, { operatorId, entityType: ENTITY, entityId: id, action: 'webhook_endpoint.created', data: { url: input.url, event_types: eventTypes, enabled: endpoint!.enabled } });
    return { endpoint: endpoint!, secret };
  });
}

export async function findWebhookEndpoint(db: Executor, operatorId: string, id: string): Promise<WebhookEndpoint | null> {
  const [row] = await db.select(publicColumns).from(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.operatorId, operatorId)));
  return row ?? null;
}

export async function listWebhookEndpoints(db: Executor, operatorId: string, page: PageRequest): Promise<WebhookEndpoint[]> {
  return db
    .select(publicColumns)
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.operatorId, operatorId), afterCursor(page, webhookEndpoints.createdAt, webhookEndpoints.id)))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(page.limit + 1);
}

export async function updateWebhookEndpoint(ctx: Ctx, operatorId: string, actor: Actor, id: string, change: WebhookEndpointInput): Promise<WebhookEndpoint> {
  const eventTypes = validate(change, ctx.config.sandbox);
  await refuseForbiddenTarget(ctx, change.url);
  return ctx.database.db.transaction(async (tx) => {
    const before = await findWebhookEndpoint(tx, operatorId, id);
    if (!before) throw new NotFoundError('webhook_endpoint', id);
    const changes = Object.fromEntries(Object.entries({ url: change.url, description: change.description, eventTypes, enabled: change.enabled }).filter(([, v]) => v !== undefined));
    if (Object.keys(changes).length === 0) return before;
    const [after] = await tx.update(webhookEndpoints).set({ ...changes, updatedAt: ctx.clock() }).where(eq(webhookEndpoints.id, id)).returning(publicColumns);
    const diff = Object.fromEntries(Object.keys(changes).map((k) => [k, { from: before[k as keyof WebhookEndpoint], to: after![k as keyof WebhookEndpoint] }]));
    await recordAudit(tx, actor, { operatorId, entityType: ENTITY, entityId: id, action: 'webhook_endpoint.updated', data: diff });
    return after!;
  });
}

/** A new secret at once: the old one stops signing now, including retries of earlier events. */
export async function rotateWebhookEndpointSecret(ctx: Ctx, operatorId: string, actor: Actor, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const secret = newSecret();
  return ctx.database.db.transaction(async (tx) => {
    const [endpoint] = await tx
      .update(webhookEndpoints)
      .set({ sealedSecret: ctx.vault.seal(secret, webhookSecretContext(id)), updatedAt: ctx.clock() })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.operatorId, operatorId)))
      .returning(publicColumns);
    if (!endpoint) throw new NotFoundError('webhook_endpoint', id);
    await recordAudit(tx, actor, { operatorId, entityType: ENTITY, entityId: id, action: 'webhook_endpoint.secret_rotated' });
    return { endpoint, secret };
  });
}

/** A `webhook.test` event for this endpoint alone: written already dispatched, with its one delivery. */
export async function sendTestEvent(ctx: Ctx, operatorId: string, id: string): Promise<{ eventId: string; deliveryId: string }> {
  const now = ctx.clock();
  return ctx.database.db.transaction(async (tx) => {
    const endpoint = await findWebhookEndpoint(tx, operatorId, id);
    if (!endpoint) throw new NotFoundError('webhook_endpoint', id);
    if (!endpoint.enabled) throw new ConflictError('webhook_endpoint.disabled', 'The endpoint is disabled; enable it to send it a test event.');
    // Written for this endpoint whatever types it takes, and dispatched already: no other endpoint gets it.
    const event = outboxRow({ operatorId, type: 'webhook.test', data: { endpoint_id: id, message: 'A test event from payrail.' } }, now);
    const eventId = event.id;
    await tx.insert(outboxEvents).values({ id: eventId, operatorId, type: event.type, payload: event.payload, createdAt: now, dispatchedAt: now });
    const deliveryId = randomUUID();
    await tx.insert(webhookDeliveries).values({ id: deliveryId, operatorId, eventId, endpointId: id, nextAttemptAt: now, createdAt: now, updatedAt: now });
    return { eventId, deliveryId };
  });
}

/** An endpoint's deliveries, newest first, each with its attempts. */
export async function listDeliveries(db: Executor, operatorId: string, endpointId: string, page: PageRequest): Promise<WebhookDelivery[]> {
  const rows = await db
    .select({ ...getTableColumns(webhookDeliveries), eventType: outboxEvents.type })
    .from(webhookDeliveries)
    .innerJoin(outboxEvents, eq(outboxEvents.id, webhookDeliveries.eventId))
    .where(and(eq(webhookDeliveries.operatorId, operatorId), eq(webhookDeliveries.endpointId, endpointId), afterCursor(page, webhookDeliveries.createdAt, webhookDeliveries.id)))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(page.limit + 1);
  return withLogs(db, rows);
}

export async function findDelivery(db: Executor, operatorId: string, id: string): Promise<WebhookDelivery | null> {
  const rows = await db
    .select({ ...getTableColumns(webhookDeliveries), eventType: outboxEvents.type })
    .from(webhookDeliveries)
    .innerJoin(outboxEvents, eq(outboxEvents.id, webhookDeliveries.eventId))
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.operatorId, operatorId)));
  return (await withLogs(db, rows))[0] ?? null;
}

async function withLogs<R extends { id: string }>(db: Executor, rows: R[]): Promise<(R & { log: WebhookAttemptRow[] })[]> {
  if (rows.length === 0) return [];
  const attempts = await db
    .select()
    .from(webhookAttempts)
    .where(inArray(webhookAttempts.deliveryId, rows.map((r) => r.id)))
    .orderBy(asc(webhookAttempts.attempt));
  return rows.map((r) => ({ ...r, log: attempts.filter((a) => a.deliveryId === r.id) }));
}
