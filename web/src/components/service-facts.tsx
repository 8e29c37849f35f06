import { Link } from '../router';
import { BILLING_STATUS, date, money, SERVICE_STATUS } from '../format';
import type { DetailsAndActions, Service } from '../types';

/** Status, billing, paid-until and amount due: what the card and the service view both show. */
export function ServiceFacts({ service, details }: { service: Service; details: DetailsAndActions | null }) {
  const billing = details?.billing_status ?? service.billing_status;
  const end = details ? details.latest_period_end_date : service.latest_period_end_date;
  const due = details?.must_pay_info?.arrears_purchase.amount;
  return (
    <dl className="facts">
      <div>
        <dt>Service</dt>
        <dd>{SERVICE_STATUS[details?.service_status ?? service.service_status] ?? service.service_status}</dd>
      </div>
      <div>
        <dt>Billing</dt>
        <dd>
          <span className={`badge badge-${billing}`}>{BILLING_STATUS[billing] ?? billing}</span>
        </dd>
      </div>
      {service.service_type === 'PrepaidUtility' ? (
        <div>
          <dt>Meter</dt>
          <dd className="mono-inline" data-testid="meter-number">
            {service.meter_id ?? '—'}
          </dd>
        </div>
      ) : (
        <div>
          <dt>Period</dt>
          <dd>{end ? `Paid until ${date(end)}` : 'Not yet active'}</dd>
        </div>
      )}
      {due !== undefined && (
        <div>
          <dt>Amount due</dt>
          <dd className="due">
            <span className="amount">{money(due)}</span> due
          </dd>
        </div>
      )}
      {details?.last_purchase_is_pending && (
        <div>
          <dt>Payment</dt>
          <dd>
            <Link to={`/app/services/${service.id.toLowerCase()}/pay`} className="raised">
              A payment is in progress
            </Link>
          </dd>
        </div>
      )}
    </dl>
  );
}

export const productName = (s: Service): string => s.product_name || 'Service';
