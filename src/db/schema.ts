/** Every module's tables, for Drizzle and drizzle-kit. Modules own their schema files. */
export * from '../modules/operators/schema.ts';
export * from '../modules/catalog/schema.ts';
export * from '../modules/customers/schema.ts';
export * from '../modules/mediums/schema.ts';
export * from '../modules/services/schema.ts';
export * from '../modules/mediums/capture-schema.ts';
export * from '../modules/purchases/schema.ts';
export * from '../modules/payments/schema.ts';
export * from '../modules/idempotency/schema.ts';
export * from '../modules/audit/schema.ts';
export * from '../modules/webhooks/schema.ts';
export * from '../sandboxes/kit/schema.ts';
export * from '../modules/billing/schema.ts';
export * from '../sandboxes/debitsuccess/schema.ts';
export * from '../sandboxes/vodapay/schema.ts';
export * from '../sandboxes/vendor/schema.ts';
