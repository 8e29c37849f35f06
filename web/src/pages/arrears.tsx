import { get, q } from '../api';
import { productName } from '../components/service-facts';
import { ErrorNote, Loading, ShowMore } from '../components/status';
import { BILLING_STATUS, date, money } from '../format';
import { useLoad } from '../hooks/use-load';
import { usePages } from '../hooks/use-pages';
import { useTitle } from '../hooks/use-title';
import { Link } from '../router';
import type { BillingStatus, Customer, Page, Service } from '../types';

const PAGE_SIZE = 25;

type Owing = Extract<BillingStatus, 'InArrears' | 'Suspended'>;

const FILTERS: { status: Owing; label: string; to: string }[] = [
  { status: 'InArrears', label: 'In arrears', to: '/app/arrears' },
  { status: 'Suspended', label: 'Suspended', to: '/app/arrears?status=Suspended' },
];

const owingPage = (status: Owing, cursor: string | null, signal?: AbortSignal) =>
  get<Page<Service>>(`/services?billing_status=${status}&limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { signal });

/** Staff: the operator's services that owe money (in arrears) or were suspended for it, with what each owes. */
export function ArrearsPage({ status }: { status: Owing }) {
  useTitle('Arrears');
  const { first, items: services, more } = usePages((cursor, signal) => owingPage(status, cursor, signal), [status]);
  const label = FILTERS.find((f) => f.status === status)!.label;

  return (
    <>
      <h1>Arrears</h1>
      <p className="muted">Services that owe money, newest first. A service in arrears is suspended on its suspension date if it still owes; paying reinstates it.</p>
      <nav aria-label="Which services">
        <ul className="filter-links">
          {FILTERS.map((f) => (
            <li key={f.status}>
              <Link to={f.to} aria-current={f.status === status ? 'page' : undefined}>
                {f.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <section className="card" aria-labelledby="owing-h">
        <h2 id="owing-h">{label}</h2>
        {first.state === 'loading' && <Loading />}
        {first.state === 'error' && <ErrorNote error={first.error} />}
        {first.state === 'ready' &&
          (services.length === 0 ? (
            <p className="muted">{status === 'Suspended' ? 'No service is suspended.' : 'No service is in arrears.'}</p>
          ) : (
            <div className="table-scroll" role="region" aria-labelledby="owing-h" tabIndex={0}>
              <table className="table" data-testid="arrears-table">
                <thead>
                  <tr>
                    <th scope="col">Service</th>
                    <th scope="col">Customer</th>
                    <th scope="col">Billing</th>
                    <th scope="col">{status === 'Suspended' ? 'Suspended on' : 'Suspension date'}</th>
                    <th scope="col" className="num">
                      Amount due
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {services.map((s) => (
                    <tr key={s.id} data-testid={`arrears-${s.id.toLowerCase()}`}>
                      <td data-label="Service">
                        <Link to={`/app/services/${s.id.toLowerCase()}`}>{productName(s)}</Link>
                      </td>
                      <td data-label="Customer">
                        <CustomerName id={s.customer_id} />
                      </td>
                      <td data-label="Billing">
                        <span className={`badge badge-${s.billing_status}`}>{BILLING_STATUS[s.billing_status] ?? s.billing_status}</span>
                      </td>
                      <td data-label={status === 'Suspended' ? 'Suspended on' : 'Suspension date'}>{s.suspension_date ? date(s.suspension_date) : '—'}</td>
                      <td data-label="Amount due" className="num amount">
                        {money(s.amount_due)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        <ShowMore more={more} label="Show more services" />
      </section>
    </>
  );
}

/** Customer names, asked once per customer however many of their services a list shows. */
const names = new Map<string, Promise<string>>();

function customerName(id: string): Promise<string> {
  const key = id.toLowerCase();
  let name = names.get(key);
  if (!name) {
    name = get<Customer>(`/customers/${q(key)}`).then((c) => c.name);
    names.set(key, name);
    name.catch(() => names.delete(key)); // a failed look-up is asked again next time
  }
  return name;
}

function CustomerName({ id }: { id: string }) {
  const [name] = useLoad(() => customerName(id), [id]);
  if (name.state === 'ready') return <>{name.data}</>;
  // Without the name the row still says whose service it is.
  if (name.state === 'error') return <span className="mono">{id.slice(0, 8)}</span>;
  return (
    <span className="muted">
      <span aria-hidden="true">…</span>
      <span className="visually-hidden">Loading</span>
    </span>
  );
}
