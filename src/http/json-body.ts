import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { AppError, ValidationError } from '../lib/errors.ts';

/**
 * JSON bodies, parsed as Fastify does (prototype poisoning refused), and two more rules. No NUL
 * characters in strings: PostgreSQL text cannot hold them, so they would fail deep in a query instead of
 * being refused here as the bad input they are. And no nesting deeper than MAX_JSON_DEPTH: every body
 * payrail or a provider sends is a few levels deep, while 20,000 levels parse fine and then overflow the
 * stack of whatever walks them (a provider callback's flattening did: a 500).
 */
declare module 'fastify' {
  interface FastifyRequest {
    /** A JSON body exactly as received: a provider's header signature covers these bytes. */
    rawJson: string | null;
  }
}

export const MAX_JSON_DEPTH = 32;

export function registerJsonBodyParser(app: FastifyInstance): void {
  app.decorateRequest('rawJson', null);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    const text = raw as string;
    request.rawJson = text;
    if (text.trim() === '') return done(new ValidationError('The body is empty; send a JSON object.', [{ name: 'body', reason: 'is empty' }]), undefined);
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
      return done(new ValidationError(`The body nests deeper than ${MAX_JSON_DEPTH} levels.`, [{ name: 'body', reason: `nests deeper than ${MAX_JSON_DEPTH} levels` }]), undefined);
    }
    let value: unknown;
    try {
      value = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (err) {
      // secure-json-parse refuses valid JSON that would poison an object's prototype: say so, not "invalid".
      if (err instanceof SyntaxError && /prototype property/.test(err.message)) {
        return done(new ValidationError('The body holds a "__proto__" or "constructor.prototype" key, which is refused.', [{ name: 'body', reason: 'holds a __proto__ or constructor.prototype key' }]), undefined);
      }
      return done(new ValidationError('The body is not valid JSON.', [{ name: 'body', reason: 'is not valid JSON' }]), undefined);
    }
    // Cheap test first: a NUL can only arrive written as the \u0000 escape.
    if (text.includes('\\u0000') && containsNul(value)) {
      return done(new ValidationError('Text must not contain NUL (\\u0000) characters.', [{ name: 'body', reason: 'contains a NUL character' }]), undefined);
    }
    done(null, value);
  });
  // Fastify reads a text/plain body as a string, which the sandboxes' form routes take (PayFast's validate
  // service accepts its parameter string so). Every other route takes JSON: a JSON body sent as text is a
  // 415, as any other type is, not "body must be object".
  app.addHook('preValidation', async (request) => {
    if (typeof request.body === 'string' && request.rawJson === null && request.routeOptions.config?.form !== true && !request.is404) {
      throw new AppError(415, 'request.unsupported_media_type', 'This endpoint takes application/json bodies.');
    }
  });
}

/** Whether brackets nest deeper than `max`, counted on the text (a loop, so depth itself cannot hurt it). */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v));
  return false;
}
