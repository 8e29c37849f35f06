import Type, { type Static, type TSchema } from 'typebox';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID_RE = new RegExp(UUID_PATTERN);

export const isUuid = (value: string): boolean => UUID_RE.test(value);

/** A UUID in its plain 36-character form (any case). Braces and urn: prefixes are refused. */
export const Uuid = (options: { description?: string } = {}) =>
  Type.String({ pattern: UUID_PATTERN, minLength: 36, maxLength: 36, ...options });

/**
 * `T | null`, written the OpenAPI 3.0 way (`nullable: true`). Unlike `anyOf [T, null]` it lets the
 * response serializer skip validating every nested value to choose a branch.
 */
export const Nullable = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });

/** Money in rand as the seed writes it (`378.90`); exact cents inside. */
export const Rand = (description = 'Amount in rand (ZAR), VAT-inclusive unless the field says otherwise') =>
  Type.Number({ description });

export const IsoDate = (description?: string) =>
  Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', ...(description ? { description } : {}) });

export const Timestamp = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.Optional(Type.String({ description: 'Stable machine-readable code, e.g. purchase.not_payable' })),
    errors: Type.Optional(Type.Array(Type.Object({ name: Type.String(), reason: Type.String() }))),
    payment_id: Type.Optional(Type.String({ description: 'Collections: the attempt concerned (the one in flight, or the one declined)' })),
    payment_status: Type.Optional(Type.String()),
    purchase_id: Type.Optional(Type.String()),
    purchase_status_id: Type.Optional(Type.Integer({ description: 'Collections: the purchase’s status after the attempt' })),
    failure_code: Type.Optional(Nullable(Type.String({ description: 'Collections: declined, insufficient_funds, expired, cancelled, other' }))),
    provider: Type.Optional(Type.String({ description: 'The provider concerned (a flow it does not offer)' })),
    provider_code: Type.Optional(Nullable(Type.String({ description: 'The provider’s own code for what it refused (Debitsuccess: 07, 08, 10, 14107 …)' }))),
    provider_note: Type.Optional(Nullable(Type.String({ description: 'The provider’s own words for it' }))),
    service_status: Type.Optional(Type.String({ description: 'Service moves: the status the service has' })),
    on_network_date: Type.Optional(Nullable(Type.String({ description: 'Activation: the on-network date the service has' }))),
  },
  { $id: 'Problem', description: 'RFC 7807 problem details (application/problem+json), with extension members where a problem names records' },
);

/** `{ items, next_cursor }` for list endpoints. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    next_cursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page' })),
  });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25, description: 'Items per page (1–100)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor from the previous page' })),
};

/** Standard error responses, referenced by every route for the OpenAPI document. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [s, { description: `Problem (${s})`, content: { 'application/problem+json': { schema: Type.Ref('Problem') } } }]),
  );
