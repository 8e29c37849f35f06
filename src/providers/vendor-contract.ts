/**
 * The utility-vendor contract: buying prepaid-utility tokens for a meter (seed 003, Electrum's prepaid
 * utility interface v3). Declared here so the seam is known; the prepaid-electricity work implements it.
 *
 * The vendor's rules shape the contract (PROVIDERS.md): a request id (UUIDv4) names one purchase and is
 * reused verbatim on every retry; 200/201/202 are success, 500/504/timeout are unknown (retry the same
 * request with `retryPurchase`, repeatedly if need be: the vendor returns tokens already issued, issues
 * them, or declines), 400/501/503 and the rest are failed. Confirmations and reversals are advices sent
 * store-and-forward: their outcome can be unknown too, and the caller resends until a final class.
 * Tokens cannot be revoked once issued: never purchase twice for one paid purchase; reprint instead.
 */
import type { Logger } from 'pino';
import type { ConnectorTiming, Money, ProviderId, ProviderSettings, SettingsDeclaration } from './contract.ts';

/** The outcome class of one vendor call. */
export type VendStatus = 'succeeded' | 'failed' | 'unknown';

export interface VendToken {
  /** STD, BSST, REFUND, KC, PWRLMT. */
  tokenType: string;
  /** The 20-digit token. Sealed at rest by the caller; never logged. */
  token: string;
  units: string | null;
  amount: Money | null;
  receiptNumber: string | null;
}

export interface VendPurchaseInput {
  /** UUIDv4, reused verbatim on retries and in the advices (the vendor recognises the request). */
  requestId: string;
  meterId: string;
  amount: Money;
  /**
   * When the purchase was first sent: the message's `time`. Give the same value on every retry so that the
   * retried body is the original request exactly; without it, the context's clock.
   */
  sentAt?: Date;
}

export interface VendPurchaseResult {
  status: VendStatus;
  tokens: VendToken[];
  failure?: { code: string; message: string };
  /** The vendor's answer without token digits. */
  raw: unknown;
}

export interface VendAdviceInput {
  /** The advice's own id (UUIDv4), reused when it is resent. */
  adviceId: string;
  /** The purchase it confirms or reverses. */
  requestId: string;
  reason?: 'TIMEOUT' | 'CANCELLED' | 'RESPONSE_NOT_FINAL';
  /** When the advice was first sent (its `time`), repeated when it is resent; without it, the context's clock. */
  sentAt?: Date;
}

/** An advice's outcome: `unknown` (500, 504, timeout) means send it again; failed (4xx, 501) means stop. */
export interface VendAdviceResult {
  status: VendStatus;
  raw: unknown;
}

export interface MeterInfo {
  meterId: string;
  customerName: string | null;
  address: string | null;
  utility: string | null;
}

export interface VendorContext {
  fetch: typeof fetch;
  clock: () => Date;
  log: Logger;
  settings: ProviderSettings;
  timeoutMs: number;
}

export interface VendorConnector {
  readonly id: ProviderId;
  readonly settings: SettingsDeclaration;
  readonly timing: ConnectorTiming;
  purchase(input: VendPurchaseInput, ctx: VendorContext): Promise<VendPurchaseResult>;
  /** Repeat a purchase whose outcome is unknown: the same request id and body. */
  retryPurchase(input: VendPurchaseInput, ctx: VendorContext): Promise<VendPurchaseResult>;
  confirm(input: VendAdviceInput, ctx: VendorContext): Promise<VendAdviceResult>;
  reverse(input: VendAdviceInput, ctx: VendorContext): Promise<VendAdviceResult>;
  lookupMeter(input: { requestId: string; meterId: string }, ctx: VendorContext): Promise<{ status: VendStatus; meter: MeterInfo | null; failure?: { code: string; message: string } }>;
  reprint(input: { requestId: string; meterId: string; originalRequestId?: string }, ctx: VendorContext): Promise<VendPurchaseResult>;
}
