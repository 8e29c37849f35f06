import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, smallint, text, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from '../../db/columns.ts';
import { customers } from '../customers/schema.ts';
import { operators } from '../operators/schema.ts';
import type { MediumStatus, MediumType, Provider } from '../../domain/enums.ts';
import type { MandateTerms } from '../../providers/contract.ts';

/**
 * A way to pay: a tokenised card or bank account, a payment link, off-system allocation, or the global
 * "Add new payment method" placeholder (operator and customer null). Holds nothing secret: provider
 * tokens live in `medium_credentials`.
 */
export const mediums = pgTable(
  'mediums',
  {
    id: id(),
    operatorId: uuid('operator_id').references(() => operators.id),
    customerId: uuid('customer_id').references(() => customers.id),
    mediumType: text('medium_type').$type<MediumType>().notNull(),
    status: text('status').$type<MediumStatus>().notNull().default('Valid'),
    /** The provider that holds the token (cards, bank accounts) or serves the link. */
    provider: text('provider').$type<Provider>(),
    externalReference: text('external_reference').notNull(),
    accountName: text('account_name').notNull(),
    /** Only ever the last digits of a card or account. */
    accountNumber: text('account_number'),
    expiryMonth: smallint('expiry_month'),
    expiryYear: smallint('expiry_year'),
    /** A card mandate (VodaPay, SPEC §11): what the customer agreed payrail may collect with it, and when. */
    mandate: jsonb('mandate').$type<MandateTerms>(),
    ...timestamps,
  },
  (t) => [
    index('mediums_customer').on(t.customerId, t.createdAt),
    check('mediums_type', sql`${t.mediumType} in ('BankAccount', 'CreditCard', 'PaymentLink', 'OffSystem', 'ProviderSelectedOpaque')`),
    check('mediums_status', sql`${t.status} in ('Valid', 'Pending', 'Expired', 'Invalid')`),
    check('mediums_owner', sql`(${t.customerId} is null) = (${t.mediumType} = 'ProviderSelectedOpaque')`),
    check('mediums_partial_number', sql`${t.accountNumber} is null or ${t.accountNumber} ~ '^[0-9]{0,4}$'`),
  ],
);

/** Provider tokens, sealed (see TokenVault). No API response selects from this table. */
export const mediumCredentials = pgTable('medium_credentials', {
  mediumId: uuid('medium_id')
    .primaryKey()
    .references(() => mediums.id),
  provider: text('provider').$type<Provider>().notNull(),
  sealedToken: text('sealed_token').notNull(),
  /** A keyed hash of the token (TokenVault.fingerprint): finds the medium when a provider names a token (PayFast card update). */
  tokenFingerprint: text('token_fingerprint'),
  /** The provider's id of the payment that stored the token, cited by later merchant-initiated charges. Not secret. */
  agreementReference: text('agreement_reference'),
  ...timestamps,
}, (t) => [index('medium_credentials_fingerprint').on(t.provider, t.tokenFingerprint)]);
