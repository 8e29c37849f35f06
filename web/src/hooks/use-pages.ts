import { useState } from 'react';
import { messageOf } from '../api';
import type { Page } from '../types';
import { useLoad, type Loaded } from './use-load';

export interface Pages<T> {
  /** The first page, as useLoad gives it. */
  first: Loaded<Page<T>>;
  /** Every item loaded so far: the first page's, then the later pages' (empty until the first is ready). */
  items: T[];
  /** Loads the next page; `cursor` is null on the last page. */
  more: { cursor: string | null; loading: boolean; error: string | null; load: () => Promise<void> };
}

/**
 * A cursor-paged list: the first page on mount (and again when `deps` change), later pages on request
 * ("Show more …"). Later pages belong to the list they followed: new `deps` start the list again.
 */
export function usePages<T>(page: (cursor: string | null, signal?: AbortSignal) => Promise<Page<T>>, deps: readonly unknown[]): Pages<T> {
  const [first] = useLoad((signal) => page(null, signal), deps);
  const key = JSON.stringify(deps);
  const [later, setLater] = useState<{ key: string; items: T[]; cursor: string | null } | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const current = later?.key === key ? later : null;
  const cursor = current ? current.cursor : first.state === 'ready' ? first.data.next_cursor : null;
  const load = async () => {
    if (!cursor || loading) return;
    setLoading(true);
    setError(null);
    try {
      const next = await page(cursor);
      setLater({ key, items: [...(current?.items ?? []), ...next.items], cursor: next.next_cursor });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setLoading(false);
    }
  };
  const items = first.state === 'ready' ? [...first.data.items, ...(current?.items ?? [])] : [];
  return { first, items, more: { cursor: first.state === 'ready' ? cursor : null, loading, error, load } };
}
