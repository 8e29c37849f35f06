import { useCallback, useEffect, useState } from 'react';
import { ApiError, get, isAbort, q } from '../api';
import type { PurchaseTokens } from '../types';

const POLL_MS = 2000;
/** The vend job usually answers within seconds; after this we stop asking and say the token will appear. */
const POLL_FOR_MS = 60_000;

/** Still moving: the vendor is being asked, or a declined vend's refund is not settled yet. */
const moving = (t: PurchaseTokens): boolean =>
  t.status === 'vending' || (t.status === 'failed' && t.refund !== null && (t.refund.status === 'pending' || t.refund.status === 'unknown'));

export interface TokensWatch {
  /** The latest answer; kept while a later poll fails. */
  data: PurchaseTokens | null;
  /** Why the tokens could not be loaded (only worth showing while there is no data). */
  error: unknown;
  /** Polled for a while and it is still vending: say so rather than spin forever. */
  gaveUp: boolean;
  checkAgain: () => void;
}

/** A utility purchase's tokens (GET /purchases/{id}/tokens), asked again every ~2 s while it is vending; null asks nothing. */
export function usePurchaseTokens(purchaseId: string | null): TokensWatch {
  const [data, setData] = useState<PurchaseTokens | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [gaveUp, setGaveUp] = useState(false);
  const [round, setRound] = useState(0);

  useEffect(() => {
    if (!purchaseId) return;
    const ctrl = new AbortController();
    const started = Date.now();
    let timer = 0;
    const check = async () => {
      try {
        const t = await get<PurchaseTokens>(`/purchases/${q(purchaseId)}/tokens`, { signal: ctrl.signal });
        if (ctrl.signal.aborted) return;
        setData(t);
        setError(null);
        if (!moving(t)) return;
      } catch (err) {
        if (ctrl.signal.aborted || isAbort(err)) return;
        setError(err);
        // Not found, not a utility purchase: asking again will not change it.
        if (err instanceof ApiError && err.status < 500) return;
      }
      if (Date.now() - started >= POLL_FOR_MS) return setGaveUp(true);
      timer = window.setTimeout(check, POLL_MS);
    };
    void check();
    return () => {
      ctrl.abort();
      window.clearTimeout(timer);
    };
  }, [purchaseId, round]);

  const checkAgain = useCallback(() => {
    setGaveUp(false);
    setRound((r) => r + 1);
  }, []);
  return { data, error, gaveUp, checkAgain };
}
