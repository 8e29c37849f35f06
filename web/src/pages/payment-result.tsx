import { useEffect, useState } from 'react';
import { get, q } from '../api';
import { ServiceCard } from '../components/service-card';
import { UtilityTokens } from '../components/utility-tokens';
import { ErrorNote, Loading, Notice } from '../components/status';
import { DEBIT_ORDER_SUBMITTED, isDebitOrder, money, returnedNote } from '../format';
import { useLoad } from '../hooks/use-load';
import { usePurchaseTokens } from '../hooks/use-purchase-tokens';
import { useTitle } from '../hooks/use-title';
import { Link } from '../router';
import { PurchaseStatus, UTILITY_VEND, type Page, type Payment, type Purchase, type Service } from '../types';

const POLL_MS = 2000;
/** A hosted page's notice (PayFast's ITN) can trail the browser's return; after this we stop watching. */
const POLL_FOR_MS = 60_000;

type Outcome = 'paid' | 'confirming' | 'debit_order' | 'returned' | 'failed' | 'not_started';

/**
 * What happened, from payrail's records rather than from the address: the 1 or 0 the browser came back
 * with only says what the provider's page said, and an address can be typed. Paid is paid; an attempt
 * still pending or unknown is being confirmed (never "failed", never "nothing charged"); a failed
 * attempt charged nothing.
 */
function outcomeOf(purchase: Purchase, payments: Payment[]): { outcome: Outcome; failed: Payment | null } {
  if (purchase.purchase_status_id === PurchaseStatus.Paid) return { outcome: 'paid', failed: null };
  const latest = payments[0] ?? null;
  // Electricity the vendor declined: paid, then cancelled; its tokens answer says where the money is.
  if (isUtility(purchase) && purchase.purchase_status_id === PurchaseStatus.Cancelled && latest?.status === 'succeeded') return { outcome: 'paid', failed: null };
  if (!latest) return { outcome: 'not_started', failed: null };
  // A debit order is with the bank for days: submitted, not "confirming".
  if ((latest.status === 'pending' || latest.status === 'unknown') && isDebitOrder(latest)) return { outcome: 'debit_order', failed: null };
  if (latest.status === 'pending' || latest.status === 'unknown') return { outcome: 'confirming', failed: null };
  // It cleared, and the bank sent it back: owed again.
  if (latest.status === 'succeeded' && latest.returned) return { outcome: 'returned', failed: latest };
  if (latest.status === 'failed') return { outcome: 'failed', failed: latest };
  return { outcome: 'confirming', failed: null }; // succeeded, and the purchase is about to show it
}

const isUtility = (p: Purchase): boolean => p.purchase_creation_event_id === UTILITY_VEND;

/** Why an attempt failed, in a few words (the result page adds that nothing was charged). */
function reasonOf(code: string | null | undefined): string {
  if (!code) return '';
  if (/insufficient/.test(code)) return 'Your card has insufficient funds.';
  if (/expired/.test(code)) return 'This card has expired.';
  if (/cancel/.test(code)) return 'The payment was cancelled.';
  if (/declin/.test(code)) return 'Your card was declined.';
  return '';
}

const HEADINGS: Record<Outcome, string> = {
  paid: 'Payment successful',
  confirming: 'Confirming your payment',
  debit_order: 'Debit order submitted',
  returned: 'Debit order returned',
  failed: 'Payment failed',
  not_started: 'No payment was made',
};

/** Where payrail returns the browser after a payment: /app/ext-pay/{userId}/{purchaseId}/1|0. */
export function PaymentResultPage({ purchaseId }: { purchaseId: string }) {
  const [loaded, reload] = useLoad(
    async (signal) => {
      const purchase = await get<Purchase>(`/purchases/${q(purchaseId)}`, { signal });
      const [service, payments] = await Promise.all([
        get<Service>(`/services/${q(purchase.service_id)}`, { signal }),
        get<Page<Payment>>(`/payments?purchaseId=${q(purchaseId)}`, { signal }),
      ]);
      return { purchase, service, ...outcomeOf(purchase, payments.items) };
    },
    [purchaseId],
  );
  const [gaveUp, setGaveUp] = useState(false);
  const ready = loaded.state === 'ready' ? loaded.data : null;
  const outcome = ready?.outcome ?? null;
  // A paid electricity purchase: its tokens (vending, issued, or declined and refunded).
  const electricity = ready && outcome === 'paid' && isUtility(ready.purchase) ? ready.purchase : null;
  const tokens = usePurchaseTokens(electricity?.id ?? null);
  const notDelivered = electricity !== null && tokens.data?.status === 'failed';
  // Until payrail's records are in, the page says only that it is looking.
  const heading = notDelivered ? 'Electricity could not be bought' : outcome ? HEADINGS[outcome] : 'Checking your payment…';
  useTitle(heading);

  useEffect(() => {
    if (outcome !== 'confirming') return;
    const started = Date.now();
    const timer = window.setInterval(() => {
      if (Date.now() - started < POLL_FOR_MS) return reload();
      window.clearInterval(timer);
      setGaveUp(true);
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [outcome, reload]);

  const purchase = ready?.purchase ?? null;
  const sid = purchase?.service_id.toLowerCase();
  const retry = purchase && sid ? `/app/services/${sid}/pay${purchase.purchase_status_id === PurchaseStatus.Quote ? `?purchaseId=${purchase.id}` : ''}` : null;
  const tone = notDelivered ? 'fail' : outcome === 'paid' ? 'ok' : outcome === 'failed' || outcome === 'not_started' || outcome === 'returned' ? 'fail' : 'wait';

  return (
    <>
      <div className={`result result-${tone}`}>
        <span className="result-icon" aria-hidden="true">
          {tone === 'ok' ? '✓' : tone === 'fail' ? '!' : '…'}
        </span>
        <h1>{heading}</h1>
        {outcome === 'paid' && purchase && !notDelivered && (
          <p>
            We received <span className="amount">{money(purchase.amount)}</span>. Thank you.
          </p>
        )}
        {outcome === 'failed' && <p>{`${reasonOf(ready?.failed?.failure_code)} Nothing was charged. You can try again.`.trim()}</p>}
        {outcome === 'not_started' && <p>There is no payment for this purchase yet. Nothing was charged.</p>}
        {outcome === 'debit_order' && purchase && (
          <p>
            {DEBIT_ORDER_SUBMITTED}. <span className="amount">{money(purchase.amount)}</span> is paid as soon as your bank clears it; there is nothing more to do.
          </p>
        )}
        {outcome === 'returned' && ready?.failed && <p>{returnedNote(ready.failed)} You can pay it again.</p>}
      </div>
      {outcome === 'confirming' && (
        <Notice>
          {gaveUp
            ? 'Your bank has not confirmed the payment yet. Your service will update as soon as it does, and you will not be charged twice.'
            : "We're confirming your payment with the bank…"}
        </Notice>
      )}
      {electricity && (
        <section className="card" aria-labelledby="tokens-h">
          <h2 id="tokens-h">{notDelivered ? 'Your refund' : tokens.data && tokens.data.tokens.length > 1 ? 'Your electricity tokens' : 'Your electricity token'}</h2>
          <UtilityTokens watch={tokens} amount={electricity.amount} />
        </section>
      )}
      {loaded.state === 'loading' && <Loading />}
      {loaded.state === 'error' && <ErrorNote error={loaded.error} />}
      {ready && <ServiceCard key={`${ready.purchase.purchase_status_id}-${outcome}`} service={ready.service} />}
      <div className="actions">
        {(outcome === 'failed' || outcome === 'not_started' || outcome === 'returned') && retry && (
          <Link to={retry} className="button primary">
            Try again
          </Link>
        )}
        <Link to="/app" className="button secondary">
          Back to your services
        </Link>
      </div>
    </>
  );
}
