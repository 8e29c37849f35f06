import { navigate } from './router';
import { getSession, setSession } from './session';

/** RFC 7807 problem+json, as payrail answers every error. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { name: string; reason: string }[];
  [extension: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

/** The request never got an answer (offline, DNS, server down). */
export class NetworkError extends Error {}

export const SESSION_EXPIRED = 'Your session has expired. Please sign in again.';

/** 'session': the signed-in user's token (a 401 ends the session); 'none': public; or a token being tried. */
type Auth = 'session' | 'none' | { token: string };

interface Options {
  body?: unknown;
  auth?: Auth;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** Set when a session ends by expiring, read once by the sign-in page: whichever navigation gets there first, it says why. */
export const EXPIRED_FLAG = 'payrail.session-expired';

function expireSession(): void {
  try {
    sessionStorage.setItem(EXPIRED_FLAG, '1');
  } catch {
    // Storage may be off; the navigation's state still carries the message.
  }
  setSession(null);
  navigate('/app/sign-in', { replace: true, state: { message: SESSION_EXPIRED } });
}

export async function request<T>(method: string, path: string, opts: Options = {}): Promise<{ status: number; data: T }> {
  const auth = opts.auth ?? 'session';
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...opts.headers };
  const token = auth === 'session' ? getSession()?.token : auth === 'none' ? undefined : auth.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';

  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new NetworkError('Could not reach payrail. Check your connection.');
  }
  const text = await res.text().catch(() => '');
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const problem: Problem =
      json && typeof json === 'object' ? ({ status: res.status, title: res.statusText, ...json } as Problem) : { status: res.status, title: res.statusText || `HTTP ${res.status}` };
    if (res.status === 401 && auth === 'session') expireSession();
    throw new ApiError(res.status, problem);
  }
  return { status: res.status, data: json as T };
}

export const get = <T>(path: string, opts?: Omit<Options, 'body'>) => request<T>('GET', path, opts).then((r) => r.data);
export const post = <T>(path: string, body: unknown, opts?: Omit<Options, 'body'>) => request<T>('POST', path, { ...opts, body });

export const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === 'AbortError';

/** A sentence for the person in front of the screen. */
export function messageOf(err: unknown): string {
  if (err instanceof NetworkError) return err.message;
  if (err instanceof ApiError) {
    if (err.status === 401) return SESSION_EXPIRED;
    if (err.status === 404) return 'We could not find that. It may have been removed, or it belongs to someone else.';
    return err.problem.detail || err.problem.title || 'Something went wrong.';
  }
  return 'Something went wrong. Please try again.';
}

/** An Idempotency-Key: crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export const q = encodeURIComponent;
