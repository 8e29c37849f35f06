import { sql } from 'drizzle-orm';
import { bigint, check, date, index, pgTable, smallint, text, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from '../../db/columns.ts';
import { products } from '../catalog/schema.ts';
import { customers } from '../customers/schema.ts';
import { mediums } from '../mediums/schema.ts';
import { collectors, operators } from '../operators/schema.ts';
import type { BillingStatus, ServiceStatus } from '../../domain/enums.ts';

/** A customer's subscription to a product: a fibre line, a day-bundle service. */
export const services = pgTable(
  'services',
  {
    id: id(),
    operatorId: uuid('operator_id').notNull().references(() => operators.id),
    customerId: uuid('customer_id').notNull().references(() => customers.id),
    productId: uuid('product_id').notNull().references(() => products.id),
    collectorId: uuid('collector_id').notNull().references(() => collectors.id),
    status: text('status').$type<ServiceStatus>().notNull().default('PendingIspApplication'),
    billingStatus: text('billing_status').$type<BillingStatus>().notNull().default('InArrears'),
    collectionDay: smallint('collection_day'),
    latestPeriodEndDate: date('latest_period_end_date', { mode: 'string' }),
    suspensionDate: date('suspension_date', { mode: 'string' }),
    onNetworkDate: date('on_network_date', { mode: 'string' }),
    /** PrepaidUtility: the meter tokens are bought for. */
    meterId: text('meter_id'),
    /**
     * Recurring: the date up to which monthly purchases exist (the end of the last period billed; the next
     * period starts here). Null until the service is activated. Billing runs move it; nothing else does.
     */
    billedThrough: date('billed_through', { mode: 'string' }),
    /** Bumped by triggers whenever anything a read model shows of it changes (see migration 0003). */
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    index('services_customer').on(t.customerId, t.createdAt),
    index('services_operator').on(t.operatorId, t.createdAt),
    check('services_status', sql`${t.status} in ('PendingIspApplication', 'Active', 'Suspended', 'Cancelled')`),
    check('services_billing_status', sql`${t.billingStatus} in ('PaidUp', 'InArrears', 'Suspended')`),
    check('services_collection_day', sql`${t.collectionDay} between 1 and 31`),
    check('services_meter_id', sql`${t.meterId} is null or ${t.meterId} ~ '^[A-Za-z0-9]{1,20}$'`),
    // No index on billed_through: a billing run walks services by primary key, a slice at a time, and an
    // unindexed billed_through lets its monthly update stay on the page (HOT, migration 0009).
  ],
);

/**
 * How a service is paid for: its active medium is what recurring and auto-recharge purchases are charged
 * to (a Valid CreditCard or BankAccount medium of the service's customer).
 */
export const purchasePlans = pgTable(
  'purchase_plans',
  {
    id: id(),
    serviceId: uuid('service_id').notNull().unique().references(() => services.id),
    activeMediumId: uuid('active_medium_id').references(() => mediums.id),
    ...timestamps,
  },
  (t) => [index('purchase_plans_active_medium').on(t.activeMediumId)],
);
