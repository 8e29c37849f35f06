import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const base: Options = { allErrors: true, useDefaults: true, strict: false, removeAdditional: false };

/**
 * Bodies are validated as sent: no type coercion, so `"100"` is not a number. Query strings, path
 * parameters and headers are text by nature and are coerced (`?limit=10`, `?offSystem=true`).
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const params = addFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : params).compile(schema as object) as never;
}
