/**
 * The connector contract: one interface every payment provider implements (STYLE 3–4; Medusa's
 * provider interface, hyperswitch's ConnectorIntegration).
 *
 * - Each flow is one optional method with one input and one output type; `capabilities` says which
 *   flows a provider has, so callers ask the registry instead of switching on provider names.
 * - Connectors are stateless and never touch the database: they speak the provider's protocol over HTTP
 *   (to the real provider, or to its sandbox under /sandbox/<provider>) and return what happened. The
 *   payments module persists it.
 * - Only an explicit answer is final. Every provider status maps through an exhaustive table to
 *   `AttemptStatus`; anything unrecognised, a timeout or a lost response is `unknown`, which the janitor
 *   settles later with `lookup`. Expected outcomes (a declined card) are results, not exceptions.
 * - Money crosses the contract as integer cents; each connector converts to the provider's unit and
 *   checks every amount and currency the provider answers with against what was asked.
 * - Connectors throw `ConnectorError` only when nothing was sent or the provider refused the request
 *   outright (misconfigured credentials, provider down before accepting): then no money moved.
 */
import type { Logger } from 'pino';
import type { ProviderSettings } from '../config.ts';
import type { MediumType, Provider } from '../domain/enums.ts';
import type { Cents } from '../domain/money.ts';

export type ProviderId = Provider;

export interface Money {
  amountCents: Cents;
  currency: 'ZAR';
}

/** The status of one collection attempt (payments.status). */
export type AttemptStatus = 'pending' | 'succeeded' | 'failed' | 'unknown';

export interface ConnectorCapabilities {
  /** Medium types whose stored provider token this connector can charge (`chargeToken`). */
  tokenCharges: readonly MediumType[];
  /** Sends the customer to a hosted payment page (`createCheckout`). */
  hostedCheckout: boolean;
  /** A hosted payment can leave a reusable token behind (a new card medium). */
  tokenisation: boolean;
  /** Makes payment links for a purchase (`createPaymentLink`). */
  paymentLinks: boolean;
  /** Lets the customer replace a tokenised card on a hosted page (`cardUpdateUrl`). */
  cardUpdate: boolean;
  /** Can be asked for the real outcome of an attempt (`lookup`): needed to settle `unknown`. */
  statusLookup: boolean;
  /** Posts callbacks or webhooks payrail must verify (`verifyCallback`). */
  callbacks: boolean;
  /** Records money collected outside payrail (`allocate`). */
  offSystem: boolean;
  /** Vends prepaid-utility tokens (`vend` and friends). */
  utilityVend: boolean;
}

export interface Customer {
  id: string;
  name: string;
  email: string | null;
  cellNumber: string | null;
}

/** The outcome of a collection attempt, as far as the provider has told us. */
export interface AttemptResult {
  status: AttemptStatus;
  /** The provider's id of the transaction, when it gave one. */
  providerReference: string | null;
  /** The amount the provider says it collected; the caller refuses a success whose amount differs. */
  amount?: Money;
  failure?: { code: string; message: string; kind: 'declined' | 'insufficient_funds' | 'invalid' | 'expired' | 'cancelled' | 'other' };
  /** A reusable token left by a hosted payment (tokenisation). Sealed by the caller; never logged. */
  token?: NewToken;
  /** The provider's answer, with secrets and card data removed, for the payment record. */
  raw: unknown;
}

export interface NewToken {
  value: string;
  mediumType: MediumType;
  accountName: string;
  /** Last digits only. */
  accountNumber: string | null;
  expiryMonth?: number;
  expiryYear?: number;
}

export interface ChargeTokenInput {
  /** Our id of this attempt: sent as the provider's transaction id, so a retry is recognised as one. */
  merchantReference: string;
  amount: Money;
  token: string;
  description: string;
  customer: Customer;
}

export interface CheckoutInput {
  merchantReference: string;
  amount: Money;
  description: string;
  customer: Customer;
  /** Where the provider sends the browser back (payrail's redirect receiver, which asks for the real result). */
  returnUrl: string;
  cancelUrl: string;
  /** Where the provider posts its server-to-server notification. */
  notificationUrl: string;
  /** Keep the card as a token for later charges. */
  tokenise: boolean;
}

export interface HostedSession {
  /** Send the customer here. */
  redirectUrl: string;
  /** The provider's id of the session (checkoutId, token, m_payment_id …). */
  providerReference: string;
  expiresAt: Date | null;
  raw: unknown;
}

export interface LookupInput {
  /** What the attempt was: a token charge, a hosted page or a payment link (they are looked up differently). */
  kind: 'token' | 'hosted' | 'link';
  merchantReference: string;
  providerReference: string | null;
  amount: Money;
}

/** An HTTP request from a provider, exactly as received: verification needs the raw body. */
export interface InboundRequest {
  /** Which of the provider's callbacks this is: the browser's return, a webhook, PayFast's ITN. */
  channel: 'redirect' | 'webhook' | 'itn';
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  rawBody: string;
  remoteAddress: string;
}

export interface VerifiedCallback {
  /** The provider's id of this event: callbacks are stored once per event id. */
  eventId: string;
  /** `payment`: the outcome of an attempt. `token_update`: a tokenised card was replaced (PayFast card update). */
  kind: 'payment' | 'token_update';
  /** Our reference of the attempt (payments); null for a token update. */
  merchantReference: string | null;
  /** The provider's id of the attempt or session (Peach checkoutId), when it names one. */
  providerReference: string | null;
  result: AttemptResult;
  /** token_update: the token whose card was replaced, and what is known of the new card. */
  tokenUpdate?: { token: string; accountNumber: string | null; expiryMonth?: number; expiryYear?: number };
  /** When the provider says it happened: out-of-order callbacks never move a state backwards. */
  occurredAt: Date | null;
}

export type CallbackVerdict = { ok: true; callback: VerifiedCallback } | { ok: false; reason: string };

export interface AllocationInput {
  merchantReference: string;
  amount: Money;
  purchaseSourceId: string;
  comment: string | null;
}

export interface VendInput {
  /** UUIDv4, reused verbatim on retries (the vendor recognises the request). */
  requestId: string;
  meterId: string;
  amount: Money;
}

export interface VendResult {
  status: AttemptStatus;
  tokens: { tokenType: string; token: string; units: string | null; receiptNumber: string | null }[];
  raw: unknown;
}

export interface ConnectorContext {
  fetch: typeof fetch;
  clock: () => Date;
  log: Logger;
  /** The provider's base URL and credentials (the built-in sandbox and its published test credentials by default). */
  settings: ProviderSettings;
  /** How long to wait for an answer; after that the outcome of a sent request is `unknown`. */
  timeoutMs: number;
}

export interface ConnectorTiming {
  /** How long after an attempt starts the janitor first asks about it if nothing has settled it. */
  firstCheckAfterMs: number;
  /** How long a hosted page or payment link accepts payment. */
  sessionTtlMs: number;
}

export interface Connector {
  readonly id: ProviderId;
  readonly capabilities: ConnectorCapabilities;
  readonly timing: ConnectorTiming;
  /** Charge a stored token (card, bank account or mandate) now. */
  chargeToken?(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult>;
  /** Start a hosted payment (Peach Checkout, Debitsuccess payment form, VodaPay initiate). */
  createCheckout?(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession>;
  /** A payment link for a purchase (PayFast). */
  createPaymentLink?(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession>;
  /** Ask the provider what really happened to an attempt. */
  lookup?(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult>;
  /** Check a callback's signature/token (and, where the provider requires it, confirm it with the provider). */
  verifyCallback?(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict>;
  /** Where the customer replaces a tokenised card (PayFast). */
  cardUpdateUrl?(input: { token: string; returnUrl: string }, ctx: ConnectorContext): Promise<string>;
  /** Record money collected outside payrail. */
  allocate?(input: AllocationInput, ctx: ConnectorContext): Promise<AttemptResult>;
  /** Buy prepaid-utility tokens; `retryVend` repeats the same request after an unknown outcome. */
  vend?(input: VendInput, ctx: ConnectorContext): Promise<VendResult>;
  retryVend?(input: VendInput, ctx: ConnectorContext): Promise<VendResult>;
  confirmVend?(input: VendInput, ctx: ConnectorContext): Promise<void>;
  reverseVend?(input: VendInput & { reason: 'TIMEOUT' | 'CANCELLED' | 'RESPONSE_NOT_FINAL' }, ctx: ConnectorContext): Promise<void>;
}
