import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, instant, timestamps } from '../../db/columns.ts';
import type { MediumType, Provider } from '../../domain/enums.ts';
import { customers } from '../customers/schema.ts';
import { operators } from '../operators/schema.ts';
import { services } from '../services/schema.ts';
import { mediums } from './schema.ts';

export type CaptureStatus = 'open' | 'succeeded' | 'failed' | 'expired';

/**
 * A bank account or card captured without a payment (SPEC §11, `POST /payment-mediums/capture`): the
 * provider's hosted page, then the medium it leaves, once. The provider's notice secret is sealed.
 */
export const mediumCaptures = pgTable(
  'medium_captures',
  {
    id: id(),
    operatorId: uuid('operator_id')
      .notNull()
      .references(() => operators.id),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    /** The service whose active medium the captured one becomes, when the caller named one. */
    serviceId: uuid('service_id').references(() => services.id),
    mediumType: text('medium_type').$type<Extract<MediumType, 'BankAccount' | 'CreditCard'>>().notNull(),
    provider: text('provider').$type<Provider>().notNull(),
    status: text('status').$type<CaptureStatus>().notNull().default('open'),
    /** The customer's account at the provider, as payrail names it (ExternalAccountReferenceNo). */
    accountReference: text('account_reference').notNull(),
    /** The provider's id of the hosted page (Debitsuccess's one-time token). */
    providerReference: text('provider_reference'),
    /** The secret the provider's notices about this page carry, sealed (TokenVault, bound to the capture). */
    sealedNoticeSecret: text('sealed_notice_secret'),
    /** Where the customer enters the details. */
    redirectUrl: text('redirect_url'),
    /** Where payrail sends the customer back to (a client interface), with the capture's id and status. */
    returnUrl: text('return_url').notNull(),
    expiresAt: instant('expires_at'),
    mediumId: uuid('medium_id').references(() => mediums.id),
    /** When the captures job next asks the provider about an open capture (a customer who never came back). */
    nextCheckAt: instant('next_check_at'),
    failureCode: text('failure_code'),
    failureMessage: text('failure_message'),
    finishedAt: instant('finished_at'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('medium_captures_provider_reference').on(t.provider, t.providerReference),
    index('medium_captures_customer').on(t.customerId, t.createdAt),
    index('medium_captures_due').on(t.nextCheckAt).where(sql`${t.status} = 'open'`),
    check('medium_captures_status', sql`${t.status} in ('open', 'succeeded', 'failed', 'expired')`),
    check('medium_captures_type', sql`${t.mediumType} in ('BankAccount', 'CreditCard')`),
    check('medium_captures_medium', sql`(${t.status} = 'succeeded') = (${t.mediumId} is not null)`),
  ],
);
