import type { FastifyReply } from 'fastify';
import type { SandboxContext } from '../kit/kit.ts';
import { RESULTS, peachError } from './shared.ts';

const WINDOW_MS = 60_000;

/**
 * Peach's API reference throttles its look-ups (`/status`, `/v1/query`) to two requests a minute per
 * merchant. One throttle per endpoint, counting each merchant's (entity id's) answered requests over a
 * rolling 60 seconds of `ctx.clock()`; the allowance is `PAYRAIL_SANDBOX_PEACH_LOOKUPS_PER_MINUTE`, read
 * on every request. The counts live in memory, per payrail process (a sandbox choice: a restart forgets
 * them, and processes sharing a database each allow the full rate).
 */
export function createThrottle(ctx: SandboxContext): (reply: FastifyReply, entityId: string) => FastifyReply | null {
  const seen = new Map<string, number[]>();
  return (reply, entityId) => {
    const now = ctx.clock().getTime();
    const recent = (seen.get(entityId) ?? []).filter((at) => at > now - WINDOW_MS);
    // Refused requests are not counted: a merchant that waits a minute is answered again.
    if (recent.length >= ctx.config.sandboxes.peachStatusPerMinute) {
      seen.set(entityId, recent);
      return peachError(reply, 429, RESULTS.throttled);
    }
    recent.push(now);
    seen.set(entityId, recent);
    return null;
  };
}
