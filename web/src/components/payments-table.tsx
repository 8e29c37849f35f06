import { get, q } from '../api';
import { dateTime, DEBIT_ORDER_SUBMITTED, isDebitOrder, money, PAYMENT_STATUS } from '../format';
import { useLoad } from '../hooks/use-load';
import type { Page, Payment } from '../types';
import { ErrorNote, Loading } from './status';

/** Staff: every collection attempt on the service, newest first. */
export function PaymentsTable({ serviceId, version }: { serviceId: string; version: number }) {
  const [payments] = useLoad((signal) => get<Page<Payment>>(`/payments?serviceId=${q(serviceId)}`, { signal }), [serviceId, version]);
  return (
    <section className="card" aria-labelledby="payments-h">
      <h2 id="payments-h">Payments</h2>
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
                </tr>
              </thead>
              <tbody>
                {payments.data.items.map((p) => (
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
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}
