import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** A tiny history-API router: the app lives under /app (vite base), one route table in App. */
const listeners = new Set<() => void>();
let version = 0;
const notify = () => {
  version += 1;
  listeners.forEach((l) => l());
};
window.addEventListener('popstate', notify);

export function navigate(to: string, opts: { replace?: boolean; state?: unknown } = {}): void {
  history[opts.replace ? 'replaceState' : 'pushState'](opts.state ?? null, '', to);
  notify();
}

export interface Location {
  pathname: string;
  query: URLSearchParams;
  state: { message?: string; from?: string } | null;
}

const snapshot = () => `${version} ${location.pathname}${location.search}`;

export function useLocation(): Location {
  useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, snapshot);
  const pathname = location.pathname.replace(/\/+$/, '') || '/';
  return { pathname, query: new URLSearchParams(location.search), state: (history.state as Location['state']) ?? null };
}

/** `/app/services/:id` against a pathname: the params, or null. */
export function match(pattern: string, pathname: string): Record<string, string> | null {
  const want = pattern.split('/');
  const have = pathname.split('/');
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const w = want[i]!;
    const h = have[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(h);
    else if (w !== h) return null;
  }
  return params;
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const follow = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={follow} {...rest} />;
}
