import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { ValidationError } from '../lib/errors.ts';

/**
 * JSON bodies, parsed as Fastify does (prototype poisoning refused), and one more rule: no NUL
 * characters in strings. PostgreSQL text cannot hold them, so they would fail deep in a query instead of
 * being refused here as the bad input they are.
 */
declare module 'fastify' {
  interface FastifyRequest {
    /** A JSON body exactly as received: a provider's header signature covers these bytes. */
    rawJson: string | null;
  }
}

export function registerJsonBodyParser(app: FastifyInstance): void {
  app.decorateRequest('rawJson', null);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    const text = raw as string;
    request.rawJson = text;
    if (text.trim() === '') return done(new ValidationError('The body is empty; send a JSON object.', [{ name: 'body', reason: 'is empty' }]), undefined);
    let value: unknown;
    try {
      value = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(new ValidationError('The body is not valid JSON.', [{ name: 'body', reason: 'is not valid JSON' }]), undefined);
    }
    // Cheap test first: a NUL can only arrive written as the \u0000 escape.
    if (text.includes('\\u0000') && containsNul(value)) {
      return done(new ValidationError('Text must not contain NUL (\\u0000) characters.', [{ name: 'body', reason: 'contains a NUL character' }]), undefined);
    }
    done(null, value);
  });
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v));
  return false;
}
