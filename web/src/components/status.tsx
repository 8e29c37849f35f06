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

/** The "Show more …" button of a paged list, and why the last attempt to load more failed. */
export function ShowMore({ more, label }: { more: { cursor: string | null; loading: boolean; error: string | null; load: () => Promise<void> }; label: string }) {
  return (
    <>
      {more.error && <Alert>{more.error}</Alert>}
      {more.cursor && (
        <p>
          <button type="button" className="button secondary block" onClick={() => void more.load()} disabled={more.loading}>
            {more.loading ? 'Loading…' : label}
          </button>
        </p>
      )}
    </>
  );
}
