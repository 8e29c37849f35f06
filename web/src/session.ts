import { useSyncExternalStore } from 'react';
import type { User } from './types';

/** Who is signed in. sessionStorage: it survives the round trip through a provider's hosted page, not the tab. */
export interface Session {
  token: string;
  user: User;
}

const KEY = 'payrail.session';
const listeners = new Set<() => void>();
let cached: { raw: string | null; session: Session | null } = { raw: null, session: null };

function read(): Session | null {
  let raw: string | null = null;
  try {
    raw = sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
  if (raw === cached.raw) return cached.session;
  let session: Session | null = null;
  try {
    const parsed = raw ? (JSON.parse(raw) as Session) : null;
    session = parsed && typeof parsed.token === 'string' && parsed.user ? parsed : null;
  } catch {
    session = null;
  }
  cached = { raw, session };
  return session;
}

export const getSession = read;

export function setSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l());
}

export function useSession(): Session | null {
  return useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, read);
}

export const isStaff = (user: User | undefined | null): boolean => !!user && user.role !== 'customer';
