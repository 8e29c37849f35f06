import type { Config } from '../../config.ts';
import type { CallbackDeclaration } from '../../providers/contract.ts';
import type { ConnectorRegistry } from '../../providers/registry.ts';

/**
 * Browser redirects payrail makes or asks providers to make may only lead to payrail itself or to the
 * operator's client interfaces (PAYRAIL_REDIRECT_ORIGINS): payrail must never be an open redirect.
 */
export function allowedRedirect(config: Config, value: string): URL | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  const allowed = [new URL(config.publicUrl).origin, ...config.collections.redirectOrigins];
  return allowed.includes(url.origin) ? url : null;
}

/**
 * A return URL is allowed when it leads to payrail or a client interface — and, when it is one of payrail's
 * browser-return receivers (seed 000's `/peach-redirect/{collectorId}?url=`), when where that one forwards
 * to is allowed too.
 */
export function allowedReturnUrl(config: Config, registry: ConnectorRegistry, value: string): boolean {
  const url = allowedRedirect(config, value);
  if (!url) return false;
  const receiver = registry.callbacks().some(({ callback }) => callback.channel === 'redirect' && pathPattern(callback.path).test(url.pathname));
  if (!receiver) return true;
  const inner = url.searchParams.get('url');
  return inner === null || allowedRedirect(config, inner) !== null;
}

/** A declared path (`/peach-redirect/:collectorId`) as a matcher of request paths. */
export const pathPattern = (path: string): RegExp => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+')}/?$`);

/** Seed 000's return URL: the UI URL with its last path segment set to 1 (success) or 0 (failure). */
export function withOutcome(url: URL, success: boolean): string {
  const copy = new URL(url.toString());
  const segments = copy.pathname.split('/');
  if (segments.length > 1 && (segments.at(-1) === '1' || segments.at(-1) === '0' || segments.at(-1) === '')) segments[segments.length - 1] = success ? '1' : '0';
  else segments.push(success ? '1' : '0');
  copy.pathname = segments.join('/');
  return copy.toString();
}

/** The client interface's return page for a purchase (SPEC §8), used when the caller gives no URLs. */
export const defaultUiReturnUrl = (config: Config, userId: string, purchaseId: string, success: boolean): string =>
  `${config.publicUrl}/app/ext-pay/${userId}/${purchaseId}/${success ? 1 : 0}`;

/** A provider's browser-return receiver, forwarding to `uiUrl` (seed 000's `/peach-redirect/{collectorId}?url=` shape). */
export const browserReturnUrl = (config: Config, callback: CallbackDeclaration, collectorId: string, uiUrl: string): string =>
  `${config.publicUrl}${callback.path.replace(':collectorId', collectorId)}?url=${encodeURIComponent(uiUrl)}`;

/** Where a provider posts its notifications for an attempt: its declared notification callback, or nowhere. */
export const notificationUrl = (config: Config, registry: ConnectorRegistry, provider: string): string | null => {
  const callback = registry.notification(provider);
  return callback ? `${config.publicUrl}${callback.path}` : null;
};
