import { Fragment } from 'react';
import { get, q } from '../api';
import { DEBIT_ORDER_SUBMITTED, isDebitOrder, operatorDate, money, PURCHASE_STATUS, returnedNote } from '../format';
import { useLoad } from '../hooks/use-load';
import { usePages } from '../hooks/use-pages';
import { usePurchaseTokens } from '../hooks/use-purchase-tokens';
import { PurchaseStatus, UTILITY_VEND, type Medium, type Page, type Payment, type Purchase } from '../types';
import { ErrorNote, Loading, ShowMore } from './status';
import { UtilityTokens } from './utility-tokens';

const PAGE_SIZE = 25;

/** A price offered and never paid is not part of the history. */
const listed = (p: Purchase) => p.purchase_status_id !== PurchaseStatus.Quote && p.purchase_status_id !== PurchaseStatus.Expired;

const purchasesPage = (serviceId: string, cursor: string | null, signal?: AbortSignal) =>
  get<Page<Purchase>>(`/purchases?serviceId=${q(serviceId)}&limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { signal });

/** A paid electricity purchase has its tokens (or, when the vendor declined it and it was cancelled, its refund). */
const hasTokens = (p: Purchase) =>
  p.purchase_creation_event_id === UTILITY_VEND && (p.purchase_status_id === PurchaseStatus.Paid || p.purchase_status_id === PurchaseStatus.Cancelled);

function PurchaseTokensCell({ purchase }: { purchase: Purchase }) {
  const watch = usePurchaseTokens(purchase.id);
  return <UtilityTokens watch={watch} amount={purchase.amount} compact />;
}

/** How a purchase was (or is to be) paid, by the service's mediums; null when none was chosen yet. */
function mediumName(id: string | null, mediums: Medium[]): string {
  if (!id) return '—';
  const m = mediums.find((x) => x.medium_detail_id.toLowerCase() === id.toLowerCase());
  if (!m) return 'An earlier payment method';
  return m.account_number && !m.account_name.includes(m.account_number) ? `${m.account_name} ending ${m.account_number}` : m.account_name;
}

/** What a status alone does not say of a purchase; a returned debit order in the colour of a failure. */
function PurchaseNote({ note }: { note: { text: string; returned: boolean } | null }) {
  return note ? <span className={`small block ${note.returned ? 'returned-note' : 'purchase-note'}`}>{note.text}</span> : null;
}

/** The customer's payment history of a service: its purchases, newest first. */
export function PurchaseHistory({ serviceId, mediums }: { serviceId: string; mediums: Medium[] }) {
  const { first, items, more } = usePages((cursor, signal) => purchasesPage(serviceId, cursor, signal), [serviceId]);
  const purchases = items.filter(listed);
  // The latest attempts, for what a status alone does not say: a debit order with the bank, one returned.
  const [payments] = useLoad((signal) => get<Page<Payment>>(`/payments?serviceId=${q(serviceId)}&limit=100`, { signal }), [serviceId]);
  const attempts = payments.state === 'ready' ? payments.data.items : [];
  const note = (p: Purchase): { text: string; returned: boolean } | null => {
    const mine = attempts.filter((a) => a.purchase_id.toLowerCase() === p.id.toLowerCase());
    const latest = mine[0];
    if (latest && (latest.status === 'pending' || latest.status === 'unknown') && isDebitOrder(latest)) return { text: DEBIT_ORDER_SUBMITTED, returned: false };
    const returned = mine.find((a) => a.returned);
    if (returned && p.purchase_status_id !== PurchaseStatus.Paid) return { text: returnedNote(returned), returned: true };
    if (returned) return { text: 'An earlier debit order was returned by the bank; this purchase has since been paid.', returned: false };
    return null;
  };

  return (
    <section className="card" aria-labelledby="history-h">
      <h2 id="history-h">Payment history</h2>
      {first.state === 'loading' && <Loading />}
      {first.state === 'error' && <ErrorNote error={first.error} />}
      {first.state === 'ready' &&
        (purchases.length === 0 ? (
          <p className="muted">Nothing has been billed or bought on this service yet.</p>
        ) : (
          <div className="table-scroll" role="region" aria-labelledby="history-h" tabIndex={0}>
            <table className="table" data-testid="purchase-history">
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">For</th>
                  <th scope="col">Status</th>
                  <th scope="col">Payment method</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {purchases.map((p) => (
                  <Fragment key={p.id}>
                    <tr className={hasTokens(p) ? 'has-tokens' : undefined}>
                      <td data-label="Date">{operatorDate(p.purchase_date)}</td>
                      <td data-label="For">{p.purchase_lines.map((l) => l.description).join(', ') || '—'}</td>
                      <td data-label="Status">
                        <span className={`badge badge-purchase-${p.purchase_status_id}`}>{PURCHASE_STATUS[p.purchase_status_id] ?? p.purchase_status_id}</span>
                        <PurchaseNote note={note(p)} />
                      </td>
                      <td data-label="Payment method">{mediumName(p.medium_id, mediums)}</td>
                      <td data-label="Amount" className="num amount">
                        {money(p.amount)}
                      </td>
                    </tr>
                    {hasTokens(p) && (
                      <tr className="token-row">
                        <td colSpan={5} className="token-cell">
                          <PurchaseTokensCell purchase={p} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      <ShowMore more={more} label="Show older payments" />
      <p className="small muted">Quotes you did not pay are not listed.</p>
    </section>
  );
}
