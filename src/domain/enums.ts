/**
 * Every enumeration the API shows, with its stable number. Numbers never change meaning; new values get
 * new numbers. OpenAPI descriptions are generated from these tables.
 */

export const PurchaseStatus = {
  Scheduled: 1,
  Submitted: 2,
  Unpaid: 3,
  Paid: 4,
  Failed: 5,
  Quote: 6,
  Cancelled: 7,
  Expired: 8,
} as const;
export type PurchaseStatusId = (typeof PurchaseStatus)[keyof typeof PurchaseStatus];

export const PurchaseStatusMeaning: Record<PurchaseStatusId, string> = {
  1: 'Scheduled (future-dated)',
  2: 'Submitted (payment in flight)',
  3: 'Unpaid (due, must pay)',
  4: 'Paid',
  5: 'Failed (given up on, e.g. an auto-recharge after its retries)',
  6: 'Quote (buy-now, not yet submitted)',
  7: 'Cancelled',
  8: 'Expired',
};

export const PurchaseCreationEvent = {
  Order: 1,
  RecurringBilling: 2,
  AutoRecharge: 3,
  Installation: 4,
  Manual: 5,
  BuyNow: 6,
  UtilityVend: 7,
} as const;
export type PurchaseCreationEventId = (typeof PurchaseCreationEvent)[keyof typeof PurchaseCreationEvent];

export const PurchaseCreationEventMeaning: Record<PurchaseCreationEventId, string> = {
  1: 'Order (upfront)',
  2: 'Recurring billing',
  3: 'Auto-recharge',
  4: 'Installation',
  5: 'Manual',
  6: 'Buy-now',
  7: 'Utility vend',
};

export const PurchaseLineType = { Day: 1, Monthly: 2, Once: 3 } as const;
export type PurchaseLineTypeId = (typeof PurchaseLineType)[keyof typeof PurchaseLineType];
export const PurchaseLineTypeMeaning: Record<PurchaseLineTypeId, string> = {
  1: 'Day',
  2: 'Monthly',
  3: 'Installation/Once-off',
};

export const MediumTypes = ['BankAccount', 'CreditCard', 'PaymentLink', 'OffSystem', 'ProviderSelectedOpaque'] as const;
export type MediumType = (typeof MediumTypes)[number];
/** `mediumType` numbers: 1 and 2 are seed 000's; the rest are payrail's. */
export const MediumTypeNumber: Record<MediumType, number> = {
  BankAccount: 1,
  CreditCard: 2,
  PaymentLink: 3,
  OffSystem: 4,
  ProviderSelectedOpaque: 5,
};

export const MediumStatuses = ['Valid', 'Pending', 'Expired', 'Invalid'] as const;
export type MediumStatus = (typeof MediumStatuses)[number];

export const BillingStatuses = ['PaidUp', 'InArrears', 'Suspended'] as const;
export type BillingStatus = (typeof BillingStatuses)[number];

export const ServiceStatuses = ['PendingIspApplication', 'Active', 'Suspended', 'Cancelled'] as const;
export type ServiceStatus = (typeof ServiceStatuses)[number];

export const ServiceStatusCategories = [
  'PreActivationStatuses',
  'ActiveStatuses',
  'SuspendedStatuses',
  'CancelledStatuses',
] as const;
export type ServiceStatusCategory = (typeof ServiceStatusCategories)[number];

export const serviceStatusCategory = {
  PendingIspApplication: 'PreActivationStatuses',
  Active: 'ActiveStatuses',
  Suspended: 'SuspendedStatuses',
  Cancelled: 'CancelledStatuses',
} as const satisfies Record<ServiceStatus, ServiceStatusCategory>;

export const BillingSchemes = ['Recurring', 'DayBundle', 'HybridDayBundle', 'PrepaidUtility'] as const;
export type BillingScheme = (typeof BillingSchemes)[number];
export const BillingSchemeNumber: Record<BillingScheme, number> = { Recurring: 1, DayBundle: 2, HybridDayBundle: 3, PrepaidUtility: 4 };

export const Roles = ['customer', 'integrator', 'admin'] as const;
export type Role = (typeof Roles)[number];

/**
 * A payment provider's name as payrail stores it ('PayFast', 'PeachPayments' …). Which providers exist is
 * the connector registry's business (src/providers/registry.ts), not the domain's.
 */
export type Provider = string;

export const PaymentStatuses = ['pending', 'succeeded', 'failed', 'unknown'] as const;
export type PaymentStatus = (typeof PaymentStatuses)[number];

/** Numbered description for OpenAPI: "1 Scheduled (future-dated), 2 …". */
export function describeNumbered(meanings: Record<number, string>): string {
  return Object.entries(meanings)
    .map(([n, m]) => `${n} = ${m}`)
    .join('; ');
}
