import type { Config } from '../../config.ts';

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

/** payrail's receiver of Peach's browser POST, forwarding to `uiUrl` (seed 000's success_url shape). */
export const peachRedirectUrl = (config: Config, collectorId: string, uiUrl: string): string =>
  `${config.publicUrl}/peach-redirect/${collectorId}?url=${encodeURIComponent(uiUrl)}`;
