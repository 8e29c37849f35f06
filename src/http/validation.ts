import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const base: Options = { allErrors: true, useDefaults: true, strict: false, removeAdditional: false };

/**
 * Bodies are validated as sent: no type coercion, so `"100"` is not a number. Query strings, path
 * parameters and headers are text by nature and are coerced (`?limit=10`, `?offSystem=true`).
 *
 * A query string takes only the parameters its route names, as a body takes only its fields: a misspelled
 * filter (`?billingStatus=` for `?billing_status=`) is a 400 naming it, not the whole list unfiltered. A
 * route that receives parameters it does not choose (a provider returning the shopper's browser) says so
 * with `additionalProperties: true`.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const params = addFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return body.compile(schema as object) as never;
    const s = schema as { type?: unknown; additionalProperties?: unknown };
    const closed = httpPart === 'querystring' && s.type === 'object' && s.additionalProperties === undefined ? { ...s, additionalProperties: false } : s;
    return params.compile(closed as object) as never;
  };
}
