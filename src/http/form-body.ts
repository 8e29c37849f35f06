import type { FastifyInstance } from 'fastify';
import { AppError, ValidationError } from '../lib/errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes HTML form posts (provider callbacks, sandbox pages); every other route takes JSON only. */
    form?: boolean;
    /** The path carries a secret (a provider token): logs show the route pattern instead. */
    sensitivePath?: boolean;
  }
  interface FastifyRequest {
    /** The body exactly as received, for form posts: provider signatures are computed over it. */
    rawBody: string | null;
  }
}

/**
 * HTML form posts (`application/x-www-form-urlencoded`): providers' redirects and notifications, and
 * the sandboxes' hosted pages. The body becomes an object of its fields (a repeated field keeps its last
 * value); the raw text stays on `request.rawBody`, because a signature covers the fields in the order
 * they were sent.
 */
export function registerFormBodyParser(app: FastifyInstance): void {
  app.decorateRequest('rawBody', null);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 65_536 }, (request, raw, done) => {
    const text = raw as string;
    if (text.includes('\u0000') || /%00/i.test(text)) {
      return done(new ValidationError('Form fields must not contain NUL characters.', [{ name: 'body', reason: 'contains a NUL character' }]), undefined);
    }
    request.rawBody = text;
    const fields: Record<string, string> = Object.create(null);
    try {
      for (const [key, value] of new URLSearchParams(text)) fields[key] = value;
    } catch {
      return done(new ValidationError('The form body could not be read.', [{ name: 'body', reason: 'is not a valid form' }]), undefined);
    }
    done(null, { ...fields });
  });
  app.addHook('preValidation', async (request) => {
    if (request.rawBody !== null && request.routeOptions.config?.form !== true && !request.is404) {
      throw new AppError(415, 'request.unsupported_media_type', 'This endpoint takes application/json bodies.');
    }
  });
}

/** The fields of a raw form body, in the order they were sent (empty values kept). */
export function orderedFields(rawBody: string): [string, string][] {
  return [...new URLSearchParams(rawBody)];
}
