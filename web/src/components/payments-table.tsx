import { useState } from 'react';
import { get, q } from '../api';
import { dateTime, DEBIT_ORDER_SUBMITTED, isDebitOrder, money, PAYMENT_STATUS } from '../format';
import { useLoad } from '../hooks/use-load';
import type { Page, Payment, Refund } from '../types';
import { REFUND_STATUS, RefundDialog, refundOutcome } from './refund-dialog';
import { Alert, ErrorNote, Loading, Notice } from './status';

/** Money that came in and has not gone back: it may be refunded. */
const refundable = (p: Payment, refund: Pick<Refund, 'status'> | undefined): boolean => p.status === 'succeeded' && !p.returned && !refund;

/** Staff: every collection attempt on the service, newest first; a succeeded one can be refunded. */
export function PaymentsTable({ serviceId, version }: { serviceId: string; version: number }) {
  const [payments] = useLoad((signal) => get<Page<Payment>>(`/payments?serviceId=${q(serviceId)}`, { signal }), [serviceId, version]);
  const [made, setMade] = useState<Record<string, Refund>>({});
  const [asking, setAsking] = useState<Payment | null>(null);
  const [outcome, setOutcome] = useState<{ text: string; failed: boolean } | null>(null);
  // A refund made here just now, else the one the payment itself lists.
  const refundOf = (p: Payment): Pick<Refund, 'status'> | undefined => made[p.id.toLowerCase()] ?? p.refund ?? undefined;
  const refunded = (refund: Refund, created: boolean) => {
    setMade((m) => ({ ...m, [refund.payment_id.toLowerCase()]: refund }));
    setOutcome({ text: refundOutcome(refund, created), failed: refund.status === 'failed' });
  };

  return (
    <section className="card" aria-labelledby="payments-h">
      <h2 id="payments-h">Payments</h2>
      {outcome && (outcome.failed ? <Alert>{outcome.text}</Alert> : <Notice tone="success">{outcome.text}</Notice>)}
      {payments.state === 'loading' && <Loading />}
      {payments.state === 'error' && <ErrorNote error={payments.error} />}
      {payments.state === 'ready' &&
        (payments.data.items.length === 0 ? (
          <p className="muted">No payments yet.</p>
        ) : (
          <div className="table-scroll" role="region" aria-labelledby="payments-h" tabIndex={0}>
            <table className="table" data-testid="payments-table">
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col">Provider</th>
                  <th scope="col">Status</th>
                  <th scope="col">Provider reference</th>
                  <th scope="col">Refund</th>
                </tr>
              </thead>
              <tbody>
                {payments.data.items.map((p) => {
                  const refund = refundOf(p);
                  return (
                    <tr key={p.id}>
                      <td data-label="Date">{dateTime(p.created_date)}</td>
                      <td data-label="Amount" className="num amount">{money(p.amount)}</td>
                      <td data-label="Provider">{p.provider}</td>
                      <td data-label="Status">
                        <span>
                          <span className={`badge badge-pay-${p.status}`}>{PAYMENT_STATUS[p.status] ?? p.status}</span>
                          {p.returned && <span className="badge badge-pay-failed">Returned</span>}
                          {p.returned && <span className="small block returned-note">{p.returned.reason}</span>}
                          {p.status === 'pending' && isDebitOrder(p) && <span className="small muted block">{DEBIT_ORDER_SUBMITTED}</span>}
                          {p.failure_message && <span className="small muted block">{p.failure_message}</span>}
                          {p.comment && <span className="small muted block">{p.comment}</span>}
                        </span>
                      </td>
                      <td data-label="Provider reference">
                        <span className="mono">{p.provider_reference ?? '—'}</span>
                      </td>
                      <td data-label="Refund">
                        {refund ? (
                          <span className={`badge badge-refund-${refund.status}`} data-testid={`refund-${p.id.toLowerCase()}`}>
                            {REFUND_STATUS[refund.status] ?? refund.status}
                          </span>
                        ) : refundable(p, refund) ? (
                          <button type="button" className="button secondary small" onClick={() => setAsking(p)} aria-label={`Refund ${money(p.amount)} of ${dateTime(p.created_date)}`}>
                            Refund
                          </button>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ))}
      {asking && <RefundDialog payment={asking} onClose={() => setAsking(null)} onRefunded={refunded} />}
    </section>
  );
}
