/** The API shapes the app reads (README, /docs). Money is rand, as the API gives it. */

export type Role = 'customer' | 'integrator' | 'admin';

export interface User {
  user_id: string;
  /** null when the identity provider's user is not known to payrail. */
  name: string | null;
  role: Role;
  customer_id: string | null;
  operator_id: string;
  operator_name: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type ServiceType = 'Recurring' | 'DayBundle' | 'HybridDayBundle' | 'PrepaidUtility';
export type BillingStatus = 'PaidUp' | 'InArrears' | 'Suspended';

export interface Service {
  id: string;
  customer_id: string;
  product_id: string;
  product_name?: string;
  collector_id: string;
  service_type: ServiceType;
  service_status: string;
  billing_status: BillingStatus;
  active_medium_id: string | null;
  latest_period_end_date: string | null;
  /** InArrears: the day it will be suspended if still owing; Suspended: the day it was. */
  suspension_date: string | null;
  /** What it owes now: the total of its Unpaid purchases. */
  amount_due: number;
  /** PrepaidUtility: the meter tokens are bought for. */
  meter_id?: string | null;
}

export interface PurchaseLine {
  id: string;
  description: string;
  quantity: number;
  total_amount: number;
  period_contribution_per_quantity: number;
}

export interface Purchase {
  id: string;
  service_id: string;
  amount: number;
  amount_excl: number;
  tax_amount: number;
  medium_id: string | null;
  purchase_date: string;
  purchase_status_id: number;
  purchase_creation_event_id: number;
  purchase_lines: PurchaseLine[];
}

export const PurchaseStatus = { Scheduled: 1, Submitted: 2, Unpaid: 3, Paid: 4, Failed: 5, Quote: 6, Cancelled: 7, Expired: 8 } as const;

/** purchase_creation_event_id 7: prepaid electricity bought by amount (its tokens: GET /purchases/{id}/tokens). */
export const UTILITY_VEND = 7;

export type MediumType = 'BankAccount' | 'CreditCard' | 'PaymentLink' | 'OffSystem' | 'ProviderSelectedOpaque';

/** A card mandate (VodaPay): what the customer agreed may be collected monthly. */
export interface Mandate {
  frequency: 'Monthly';
  day: number;
  amount: number;
  first_payment_date: string;
  minimum_validity_months: number;
  summary: string;
}

/** A medium as details-and-actions and active-payment-medium-for-service show it. */
export interface Medium {
  medium_detail_id: string;
  medium_type: MediumType;
  medium_status: string;
  account_name: string;
  account_number: string | null;
  provider?: string | null;
  mandate?: Mandate | null;
}

/** A medium as GET /payment-mediums lists it (seed 000's names for the same facts). */
export interface PaymentMedium {
  medium_detail_id: string;
  medium_type: MediumType;
  medium_status: string;
  bank_account?: string;
  account_nr_partial?: string | null;
  account_name?: string;
  account_number?: string | null;
  provider?: string | null;
  mandate?: Mandate | null;
}

export interface BuyOption {
  product_price_id: string;
  purchase_line_type_id: number;
  description: string;
  quantity: number;
  max_quantity: number;
  total_amount: number;
  amount_per_quantity: number;
  amount_per_quantity_incl: number;
  net_amount_excl: number;
  tax_rate: number;
  tax_amount: number;
  period_contribution_per_quantity: number;
}

export interface VariableAmount {
  kind?: undefined;
  product_price_id: string;
  purchase_line_type_id: number;
  description: string;
  amount_per_quantity: number;
  amount_per_quantity_incl: number;
  tax_rate: number;
  period_contribution_per_quantity: number;
  monthly_amount: number;
  min_amount: number;
  max_amount: number;
}

/** A PrepaidUtility service's variable_amount: tokens for any amount in the range, for its meter. */
export interface UtilityAmount {
  kind: 'utility';
  description: string;
  meter_id: string;
  tax_rate: number;
  min_amount: number;
  max_amount: number;
}

export interface CanBuyInfo {
  can_buy: boolean;
  options: BuyOption[];
  variable_amount: VariableAmount | UtilityAmount | null;
}

export interface DetailsAndActions {
  service_id: string;
  service_status: string;
  collector_id: string;
  service_type: ServiceType;
  billing_status: BillingStatus;
  latest_period_end_date: string | null;
  mediums: Medium[];
  must_pay_info: { must_pay: boolean; arrears_purchase: Purchase } | null;
  can_buy_info: CanBuyInfo | null;
  last_purchase_is_pending: boolean;
}

export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'unknown';

export interface Payment {
  id: string;
  purchase_id: string;
  /** The refund of this payment being made or made (not a refused one). */
  refund?: { id: string; status: RefundStatus; amount: number; reason: string } | null;
  medium_type?: string | null;
  provider: string;
  kind: string;
  status: PaymentStatus;
  amount: number;
  merchant_reference: string;
  provider_reference: string | null;
  failure_code?: string | null;
  failure_message: string | null;
  purchase_source_id: string | null;
  comment: string | null;
  payment_link_url?: string | null;
  link_expires_date?: string | null;
  created_date: string;
  settled_date: string | null;
  /** It succeeded and its money came back afterwards (a debit order returned unpaid). */
  returned?: { reason_code: string; reason: string; returned_date: string | null; created_date: string } | null;
}

export interface SubmitResult {
  payment_link_url: string | null;
  payment_id: string | null;
  payment_status: PaymentStatus | null;
  purchase_status_id: number;
}

export interface PurchaseSource {
  id: string;
  name: string;
}

/** A billing run's figures (GET /billing/runs). */
export interface BillingRun {
  id: string;
  /** The date the run decided everything by (the operator's calendar). */
  as_of: string;
  status: 'running' | 'completed';
  purchases_created: number;
  collections_started: number;
  retries_started: number;
  services_suspended: number;
  services_reinstated: number;
  purchases_failed: number;
  started_at: string;
  finished_at: string | null;
}

/** One run (GET /billing/runs/{id}, POST /billing/runs), with how the collections it queued went. */
export interface BillingRunDetail extends BillingRun {
  collections: { queued: number; succeeded: number; failed: number; unsettled: number; skipped: number };
}

export interface Customer {
  id: string;
  name: string;
}

/** A prepaid-utility meter as the vendor knows it (GET /services/{id}/meter). */
export interface Meter {
  meter_id: string;
  customer_name: string | null;
  address: string | null;
  utility: string | null;
}

export interface VendToken {
  /** 20 digits as keyed in: 4-4-4-4-4. */
  token: string;
  /** STD (a credit token), BSST, REFUND, KC, PWRLMT. */
  token_type: string;
  /** kWh, as a decimal string. */
  units: string | null;
  amount: number | null;
  receipt_number: string | null;
}

export type RefundStatus = 'pending' | 'unknown' | 'succeeded' | 'failed' | 'manual';

export interface Refund {
  id: string;
  payment_id: string;
  purchase_id: string;
  provider: string;
  amount: number;
  reason: 'vend_declined' | 'late_success' | 'requested';
  status: RefundStatus;
  provider_reference: string | null;
  failure: { code: string; message: string } | null;
  comment: string | null;
  created_at: string;
  settled_at: string | null;
}

/** GET /purchases/{id}/tokens. */
export interface PurchaseTokens {
  purchase_id: string;
  meter_id: string | null;
  status: 'not_paid' | 'vending' | 'issued' | 'failed';
  tokens: VendToken[];
  failure: { code: string; message: string } | null;
  refund: Refund | null;
}
