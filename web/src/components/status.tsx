import type { ReactNode } from 'react';
import { messageOf } from '../api';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" aria-busy="true" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/** A problem the person should read now. */
export function Alert({ children }: { children: ReactNode }) {
  return (
    <div className="notice notice-error" role="alert">
      {children}
    </div>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  return <Alert>{messageOf(error)}</Alert>;
}

export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'success' }) {
  return (
    <div className={`notice notice-${tone}`} role="status">
      {children}
    </div>
  );
}
