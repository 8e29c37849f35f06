import Type from 'typebox';
import { EVENT_TYPES } from '../../modules/webhooks/event-types.ts';
import { Nullable, Timestamp, Uuid } from './common.ts';
import { StringEnum } from './enums.ts';

const eventTypeList = Object.entries(EVENT_TYPES)
  .map(([type, meaning]) => `\`${type}\`: ${meaning}`)
  .join(' ');

// Validated in the use-case rather than by an enum, so an unknown type is answered by its name.
const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  maxItems: 50,
  description: `Event types the endpoint receives; empty (the default) means all. ${eventTypeList}`,
});
const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'Absolute URL payrail POSTs events to. https (plain http only in sandbox mode); no credentials in it; redirects are not followed.',
});
const Description = Type.String({ maxLength: 500 });

const endpointFields = {
  id: Uuid(),
  url: Type.String(),
  description: Nullable(Type.String()),
  event_types: Type.Array(Type.String(), { description: 'Empty means all event types' }),
  enabled: Type.Boolean({ description: 'Disabled endpoints get no new events; their pending deliveries wait until enabled again' }),
  created_at: Timestamp(),
  updated_at: Timestamp(),
};

export const WebhookEndpointSchema = Type.Object(endpointFields);

export const WebhookEndpointWithSecretSchema = Type.Object({
  ...endpointFields,
  secret: Type.String({
    description: 'The signing secret (`whsec_…`). Shown only here and on rotate-secret: keep it. Verify `payrail-signature` with it.',
  }),
});

export const NewWebhookEndpointBody = Type.Object(
  {
    url: Url,
    description: Type.Optional(Description),
    event_types: Type.Optional(EventTypes),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

export const WebhookEndpointChangeBody = Type.Object(
  {
    url: Type.Optional(Url),
    description: Type.Optional(Nullable(Description)),
    event_types: Type.Optional(EventTypes),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const TestEventSchema = Type.Object({
  event_id: Uuid({ description: 'Sent as payrail-event-id' }),
  delivery_id: Uuid({ description: 'Follow it at GET /webhook-deliveries/{id}' }),
});

export const WebhookAttemptSchema = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  started_at: Timestamp(),
  duration_ms: Type.Integer(),
  status_code: Nullable(Type.Integer({ description: 'The receiver’s HTTP status; null when it gave none' })),
  error: Nullable(Type.String({ description: 'Why there was no usable answer (refused, timed out, redirected …)' })),
  response_excerpt: Nullable(Type.String({ description: 'The first 200 characters of the receiver’s answer body (never its headers)' })),
});

export const WebhookDeliverySchema = Type.Object({
  id: Uuid({ description: 'Sent as payrail-delivery-id' }),
  endpoint_id: Uuid(),
  event_id: Uuid({ description: 'Sent as payrail-event-id' }),
  event_type: Type.String(),
  status: StringEnum(['pending', 'delivered', 'failed'] as const, 'pending: to be (re)tried; delivered: answered 2xx; failed: given up after the last attempt'),
  attempts: Type.Integer(),
  next_attempt_at: Nullable(Timestamp('When it is tried next (pending only)')),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  delivered_at: Nullable(Timestamp()),
  created_at: Timestamp(),
  attempt_log: Type.Array(WebhookAttemptSchema),
});
