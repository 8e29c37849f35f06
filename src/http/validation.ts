import { Ajv, type Options, type ValidateFunction } from 'ajv';
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
    return plainNumbers(params.compile(closed as object), closed) as never;
  };
}

const PLAIN = { integer: /^-?[0-9]+$/, number: /^-?[0-9]+(\.[0-9]+)?$/ } as const;

/**
 * Coercion reads text as JavaScript does, so `?limit=1e2`, `0x10`, ` 5` and `1.0` were taken as 100, 16, 5
 * and 1. A number in a query string or path is written in plain digits (a decimal point for a non-integer),
 * or it is the same 400 as any other wrong type.
 */
function plainNumbers(validate: ValidateFunction, schema: unknown): ValidateFunction {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> } | null)?.properties ?? {};
  const numeric = Object.entries(properties).flatMap(([name, p]) => (p?.type === 'integer' || p?.type === 'number' ? [[name, p.type] as const] : []));
  if (numeric.length === 0) return validate;
  const checked = ((data: unknown) => {
    const values = (data ?? {}) as Record<string, unknown>;
    const wrong = numeric.filter(([name, type]) => typeof values[name] === 'string' && !PLAIN[type].test(values[name] as string));
    if (wrong.length > 0) {
      checked.errors = wrong.map(([name, type]) => ({ instancePath: `/${name}`, schemaPath: `#/properties/${name}/type`, keyword: 'type', params: { type }, message: `must be ${type}` }));
      return false;
    }
    const ok = validate(data);
    checked.errors = validate.errors;
    return ok;
  }) as ValidateFunction;
  return checked;
}
