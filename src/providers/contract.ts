/**
 * The payment-connector contract: one interface every payment provider implements (STYLE 3–4; Medusa's
 * provider interface, hyperswitch's ConnectorIntegration). The utility vendor has its own contract
 * (vendor-contract.ts).
 *
 * - A connector declares itself: its id, its settings (environment variables, hosts, credentials), what it
 *   can do, the callbacks it receives and its timing. payrail's routes, notification URLs, configuration
 *   and janitor are built from these declarations, so adding a provider is its own folder plus one line
 *   in the registry (registry.ts) — and its sandbox's folder plus one line in src/sandboxes/registry.ts.
 * - Each flow is one optional method with one input and one output type. A flow a connector does not
 *   implement is a flow it does not have; `capabilities` adds only what a method cannot say (which medium
 *   types its tokens are, whether a hosted payment leaves a token, which defaults it can be).
 * - Connectors are stateless and never touch the database: they speak the provider's protocol over HTTP
 *   (to the real provider, or to its sandbox) and return what happened. The payments module persists it.
 * - Only an explicit answer is final. Every provider status maps through an exhaustive table to
 *   `AttemptStatus`; anything unrecognised, a timeout or a lost response is `unknown`, which the janitor
 *   settles later with `lookup`. Expected outcomes (a declined card) are results, not exceptions.
 * - Money crosses the contract as integer cents; each connector converts to the provider's unit and
 *   checks every amount and currency the provider answers with against what was asked.
 * - Connectors throw `ConnectorError` only when nothing can have happened at the provider: nothing was sent
 *   (see kit/http.ts, the one rule for that), or the provider refused the request before processing it
 *   (credentials, a malformed request, 503). Then no money moved.
 */
import type { Logger } from 'pino';
import type { MediumType } from '../domain/enums.ts';
import type { HostResolver } from '../lib/host-resolver.ts';
import type { Cents } from '../domain/money.ts';
import type { Secret } from '../lib/secret.ts';

/** A provider's name as payrail stores it (`payments.provider`, `mediums.provider`): 'PayFast', 'PeachPayments' … */
export type ProviderId = string;

export interface Money {
  amountCents: Cents;
  currency: 'ZAR';
}

/** The status of one collection attempt (payments.status). */
export type AttemptStatus = 'pending' | 'succeeded' | 'failed' | 'unknown';

/** How an attempt collects: a stored token charged now, a hosted page, a payment link, an off-system allocation. */
export type CollectionKind = 'token' | 'hosted' | 'link' | 'allocation';

/** What a connector can do beyond its methods. Every field is optional: undeclared means no. */
export interface ConnectorCapabilities {
  /** Medium types whose stored provider token `chargeToken` can charge. */
  tokenCharges?: readonly MediumType[];
  /** A hosted payment (`createCheckout`, `createPaymentLink`) can leave a reusable token behind: a new medium. */
  tokenisation?: boolean;
  /** Medium types this provider can be an operator's default for (`GET /default?mediumType=`, new cards). */
  defaultFor?: readonly MediumType[];
  /** Medium types its hosted page captures without a payment (`createCapture`: a bank account, a card). */
  captures?: readonly MediumType[];
  /**
   * Its hosted page's token is a recurring mandate (VodaPay): `createCheckout` needs the mandate's terms,
   * so it runs "Add new payment method" only for a service billed monthly.
   */
  mandates?: boolean;
}

/**
 * A recurring mandate the customer agrees to on a hosted page (SPEC §11): what payrail may later collect
 * with the token it leaves. Decided by payrail from the service; kept on the attempt and on the medium.
 */
export interface MandateTerms {
  frequency: 'Monthly';
  /** The day of the month collections are scheduled on (1–31; payrail clamps it to shorter months). */
  day: number;
  /** Each collection's amount: the service's monthly price. */
  amount: Money;
  /** The first collection after this payment (YYYY-MM-DD). */
  firstPaymentDate: string;
  /** The card must stay valid this many months from the first collection. */
  minimumValidityMonths: number;
}

/**
 * A callback the provider sends payrail. payrail serves `path` (POST) and hands every request, stored raw
 * first, to `verifyCallback` with this `channel`.
 */
export interface CallbackDeclaration {
  /** `redirect`: the customer's browser coming back from a hosted page; `webhook` / `itn`: the provider's server. */
  channel: 'redirect' | 'webhook' | 'itn';
  /** How it arrives: POST (the default), or GET for a browser sent back with its result in the query (VodaPay). */
  method?: 'GET' | 'POST';
  /**
   * Where payrail receives it: `/callbacks/<provider>/…`, or a path a source document fixes (seed 000's
   * `/peach-redirect/:collectorId`). A `redirect` path may name `:collectorId`; its query carries `url`, the
   * client interface address the browser is sent on to (303), its last segment set to 1 (paid) or 0.
   */
  path: string;
  /** Earlier paths of the same callback, still served: addresses already given to the provider keep working. */
  legacyPaths?: readonly string[];
  /**
   * `first`: answer 200 at once, then verify and process (the provider wants a fast 200 and retries
   * otherwise; PayFast's ITN rules). `after-verify`: verify and process first; a callback that does not
   * verify is answered 400.
   */
  answer: 'first' | 'after-verify';
  /** This is the server-to-server notification: its URL is passed to the provider with each attempt. */
  notification?: boolean;
  /**
   * What settles the attempt it names: `lookup` (the default for a browser's return) — payrail asks the
   * provider (`lookup`) and settles with that answer, the callback being only the prompt; `itself` — the
   * verified callback's own content, when verification already confirmed it with the provider (PayFast's
   * ITN and its validate service).
   */
  settles?: 'lookup' | 'itself';
  /**
   * The merchant reference a callback says it is about, read before it is verified (nothing is trusted
   * from it): while such a callback waits unprocessed, the janitor judges no attempt of that reference
   * "never sent" — its success may be in it.
   */
  claimedReference?(rawBody: string): string | null;
}

export interface ConnectorTiming {
  /** How long after an attempt starts the janitor first asks about it if nothing has settled it. */
  firstCheckAfterMs: number;
  /** How long a hosted page or payment link accepts payment. */
  sessionTtlMs?: number;
  /**
   * After a hosted page or link has closed (`expiresAt`), how long the provider may still report a payment
   * on it (late notices, states it documents as not final). An attempt nobody paid by then fails `expired`.
   */
  settleWindowMs?: number;
  /** Look-ups the provider allows per minute for this merchant, by kind; payrail spaces its own to fit. */
  lookupsPerMinute?: Partial<Record<LookupKind, number>>;
  /**
   * By when after an attempt starts the provider must know of it, if the request reached it at all (its
   * timeout and then some). Past it, the provider saying it has no such transaction (`absent`) means the
   * request never arrived: the attempt fails `not_sent` and the purchase is payable again.
   */
  deadlineMs?: number;
  /** With `readPaymentFeed`: how often payrail reads the feed. */
  feedEveryMs?: number;
  /**
   * With `readPaymentFeed`: how long after its attempts are settled the feed may still bring news of them (a
   * debit order returned after it cleared). payrail reads the feed only while attempts are in flight and for
   * this long after; a provider nobody uses is not asked.
   */
  feedWatchMs?: number;
}

/** Environment variables and hosts of a provider; the values reach the connector as `ConnectorContext.settings`. */
export interface SettingsDeclaration {
  /** Names the provider's variables: PAYRAIL_<KEY>_BASE_URL, PAYRAIL_<KEY>_<CREDENTIAL>. Lower-case, e.g. `payfast`. */
  key: string;
  /** Credential names (`merchant_id` → PAYRAIL_PAYFAST_MERCHANT_ID). Setting any of them means real credentials. */
  credentials: readonly string[];
  /**
   * The provider's hosts and where the built-in sandbox serves each (under payrail's public URL). `base` is
   * PAYRAIL_<KEY>_BASE_URL; another host `card` is PAYRAIL_<KEY>_CARD_BASE_URL.
   */
  hosts: { base: string } & Readonly<Record<string, string>>;
}

/** A provider's settings for one call: its hosts, whether they are a payrail sandbox, and its credentials. */
export interface ProviderSettings {
  /** Where the connector sends its requests (the `base` host). */
  baseUrl: string;
  /** Every host by name, `base` included. */
  hosts: Record<string, string>;
  /**
   * The provider is a payrail sandbox (built in, or standalone with PAYRAIL_SANDBOX on): the sandbox's
   * published test merchant fills any credential that is not configured, and its notices come from this machine.
   */
  sandbox: boolean;
  credentials: Record<string, Secret>;
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
  /** The provider's id of the transaction (or of the hosted session it is looked up by), when it gave one. */
  providerReference: string | null;
  /** The amount the provider says it collected; the caller refuses a success whose amount differs. */
  amount?: Money;
  failure?: { code: string; message: string; kind: 'declined' | 'insufficient_funds' | 'invalid' | 'expired' | 'cancelled' | 'not_sent' | 'other' };
  /**
   * A look-up's explicit "no such transaction": the provider has no record of this attempt. Before the
   * connector's deadline that may just mean it is still on its way; after it, that the request never arrived.
   */
  absent?: boolean;
  /**
   * A pending result's own pace: ask the provider again no sooner than this (a debit order's result comes
   * days later, and the provider's feed brings it). Without it, the janitor's backoff applies.
   */
  recheckAfterMs?: number;
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
  /**
   * The provider's id of the payment that stored the credential: later merchant-initiated charges cite it
   * (Peach's `standingInstruction.initialTransactionId`). Not secret.
   */
  agreementReference?: string;
}

export interface ChargeTokenInput {
  /** Our id of this attempt, sent as the provider's merchant reference (m_payment_id, merchantTransactionId). */
  merchantReference: string;
  amount: Money;
  token: string;
  /** The payment that stored the token, when the provider gave one (NewToken.agreementReference). */
  agreementReference: string | null;
  description: string;
  customer: Customer;
  /** What the token is: a provider that keeps cards and bank accounts charges them differently (Debitsuccess). */
  mediumType?: MediumType;
  /** Where the provider posts its notification of this charge (from the connector's own declaration). */
  notificationUrl?: string | null;
}

export interface CheckoutInput {
  merchantReference: string;
  amount: Money;
  description: string;
  customer: Customer;
  /** Where the provider sends the browser back: payrail's redirect receiver, or the client interface. */
  returnUrl: string;
  cancelUrl: string;
  /** Where the provider posts its server-to-server notification (from the connector's own declaration). */
  notificationUrl: string | null;
  /** Keep the card as a token for later charges. */
  tokenise: boolean;
  /** With a connector that declares `mandates`: the recurring mandate the customer agrees to on the page. */
  mandate?: MandateTerms | null;
}

export interface HostedSession {
  /** Send the customer here. */
  redirectUrl: string;
  /**
   * The provider's id to look the attempt up by, when it gives one now (Peach's checkoutId). PayFast's
   * payment page has none until its notice names the payment.
   */
  providerReference: string | null;
  expiresAt: Date | null;
  raw: unknown;
}

/** A hosted page where the customer enters a bank account or card to keep, paying nothing (SPEC §11). */
export interface CaptureInput {
  /** Our id of the capture. */
  reference: string;
  /** What the customer is to enter. */
  mediumType: MediumType;
  /** The customer's account at the provider, as payrail names it (Debitsuccess: ExternalAccountReferenceNo). */
  accountReference: string;
  customer: Customer;
  /** Where the provider sends the browser back: payrail's capture-return receiver. */
  returnUrl: string;
}

export interface CaptureSession extends HostedSession {
  /**
   * A secret the provider shares for this session's notices (Debitsuccess's WebhookToken). Sealed by the
   * caller; a notice that does not carry it is not the provider's.
   */
  noticeSecret: string | null;
}

export interface CaptureLookupInput {
  /** Our id of the capture. */
  reference: string;
  /** The provider's id of its hosted page (CaptureSession.providerReference). */
  providerReference: string;
  accountReference: string;
  mediumType: MediumType;
}

/** What came of a capture page, as the provider says. */
export interface CaptureResult {
  /** `open`: nothing is known yet (the customer is still on the page, or has not come back). */
  status: 'captured' | 'open' | 'failed';
  /** Captured: what to charge later (sealed by the caller) and what may be shown of it (last digits only). */
  token?: NewToken;
  failure?: { code: string; message: string };
  /** The provider's answer without secrets or account numbers. */
  raw: unknown;
}

export type LookupKind = Exclude<CollectionKind, 'allocation'>;

export interface LookupInput {
  /** What the attempt was: a token charge, a hosted page or a payment link (they are looked up differently). */
  kind: LookupKind;
  merchantReference: string;
  providerReference: string | null;
  amount: Money;
  /** Token charges: the token charged, for a provider that finds a payment by its token (PayFast). */
  token?: string | null;
  /** Hosted pages and links: when the session closes. */
  expiresAt: Date | null;
  /** When the attempt started: a provider record older than this is not the attempt's. */
  startedAt: Date;
  /**
   * The customer the attempt is for, as payrail names them (its id): a provider that files payments under
   * the customer's account finds them by it (Debitsuccess: ExternalAccountReferenceNo).
   */
  customerId?: string | null;
  /** Token charges: the medium type charged (a card payment and a debit order are looked up differently). */
  mediumType?: MediumType | null;
  /** Hosted pages that set up a mandate: its terms, as sent (a provider looked up by repeating the request needs them). */
  mandate?: MandateTerms | null;
}

/** An HTTP request from a provider, exactly as received: verification needs the raw body. */
export interface InboundRequest {
  /** Which of the provider's callbacks this is (CallbackDeclaration.channel). */
  channel: CallbackDeclaration['channel'];
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  rawBody: string;
  /** The sender's address: the socket's, or the X-Forwarded-For client of a trusted proxy (PAYRAIL_TRUSTED_PROXIES). */
  remoteAddress: string;
  /** The public URL the provider posted to (some providers sign it). */
  url: string;
}

/**
 * Money reported back after an attempt succeeded (a debit order returned unpaid by the bank). The attempt
 * stays succeeded — nothing moves it backwards — and payrail records the return against it.
 */
export interface PaymentReturn {
  /** The provider's status or code for it ("Failed"). */
  code: string;
  /** Its reason as the provider words it ("Returned unpaid: disputed by the account holder"). */
  message: string;
}

export interface VerifiedCallback {
  /** The provider's id of this event: callbacks are stored once per event id. */
  eventId: string;
  /**
   * `payment`: the outcome of an attempt. `token_update`: a tokenised card was replaced (PayFast card
   * update). `payment_return`: an attempt that succeeded was returned (`returned`); `result` is its success.
   * `capture_notice`: a capture page was used (`captureNotice`); payrail checks its secret against the
   * page's, then asks the provider what the page kept (`lookupCapture`) — the notice itself settles nothing.
   */
  kind: 'payment' | 'token_update' | 'payment_return' | 'capture_notice';
  /** Our reference of the attempt (payments); null for a token update. */
  merchantReference: string | null;
  /** The provider's id of the attempt or session, when it names one. */
  providerReference: string | null;
  result: AttemptResult;
  /** capture_notice: the customer's account at the provider and the page's notice secret it carries. */
  captureNotice?: { accountReference: string; secret: string };
  /** payment_return: what came back, and why. */
  returned?: PaymentReturn;
  /** token_update: the token whose card was replaced, and what is known of the new card. */
  tokenUpdate?: { token: string; accountNumber: string | null; expiryMonth?: number; expiryYear?: number };
  /** When the provider says it happened: out-of-order callbacks never move a state backwards. */
  occurredAt: Date | null;
}

export type CallbackVerdict =
  | { ok: true; callback: VerifiedCallback }
  | {
      ok: false;
      reason: string;
      /**
       * The callback may still verify later (the provider's confirmation service did not answer, or answered
       * something that is not a verdict): payrail keeps it and tries again, instead of rejecting it.
       */
      retry?: boolean;
      /**
       * What an authentic but not yet confirmed callback says identifies the attempt: the janitor may look the
       * attempt up by it (a look-up answer is checked against our reference, so a wrong hint settles nothing).
       */
      hint?: { merchantReference: string; providerReference: string };
    };

/**
 * Reading a provider's feed of payment results (Debitsuccess's payment statuses): every result of the
 * merchant's payments, oldest first, from a bookmark the connector gave before (or, the first time, from
 * `startAt`). Each entry says what a verified notice would; entries about payments that are not payrail's
 * are included (the caller skips them), and re-reading an entry is harmless (applying one is idempotent).
 */
export interface PaymentFeedInput {
  /** The bookmark the last page returned; null the first time. */
  position: string | null;
  /** The first time only: the earliest instant whose results matter. */
  startAt: Date;
}

export interface PaymentFeedPage {
  entries: VerifiedCallback[];
  /** Where to read on from (after this page). */
  position: string;
  /** More entries are waiting now: read again at once. */
  more: boolean;
}

/**
 * Giving money back for an attempt that succeeded (SPEC §12: a vend the vendor declined, a late success on a
 * purchase already paid, a staff refund). One refund has one `refundReference` for its whole life: it is sent
 * again, never replaced, when its outcome is unknown, so a provider that knows it never refunds twice.
 */
export interface RefundInput {
  /** Our id of this refund (the provider's reference or idempotency key for it, where it takes one). */
  refundReference: string;
  /** The attempt refunded: our reference, and the provider's id of its transaction. */
  merchantReference: string;
  providerReference: string | null;
  /** How the attempt was collected (a provider may refund a card payment and a page's payment differently). */
  kind: LookupKind;
  /** What to give back: all of the attempt's amount, or part of it. */
  amount: Money;
  /** The attempt's own amount. */
  original: Money;
  /** Why, in a few words the provider may show the customer. */
  reason: string;
}

/** What the provider says of a refund. Only an explicit answer is final; `unknown`: ask again (`lookupRefund`) or resend. */
export interface RefundResult {
  status: 'succeeded' | 'pending' | 'failed' | 'unknown';
  /** The provider's id of the refund, when it gave one. */
  providerReference: string | null;
  failure?: { code: string; message: string };
  /** The provider's answer without secrets or card data. */
  raw: unknown;
}

export interface AllocationInput {
  merchantReference: string;
  amount: Money;
  purchaseSourceId: string;
  comment: string | null;
}

export interface ConnectorContext {
  fetch: typeof fetch;
  clock: () => Date;
  log: Logger;
  /** The provider's hosts and credentials (the built-in sandbox and its published test merchant by default). */
  settings: ProviderSettings;
  /** How long to wait for an answer; after that the outcome of a sent request is `unknown`. */
  timeoutMs: number;
  /** Resolves provider host names (PayFast's ITN senders are known by their hosts' addresses). */
  resolveHost: HostResolver;
}

export interface Connector {
  readonly id: ProviderId;
  /** Its environment variables and hosts; a connector without one (off-system) talks to nobody. */
  readonly settings?: SettingsDeclaration;
  readonly capabilities?: ConnectorCapabilities;
  /** The callbacks it receives; payrail serves them. */
  readonly callbacks?: readonly CallbackDeclaration[];
  readonly timing: ConnectorTiming;
  /** Charge a stored token (card, bank account or mandate) now. */
  chargeToken?(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult>;
  /** Start a hosted payment ("Add new payment method": Peach Checkout, Debitsuccess payment form, VodaPay initiate). */
  createCheckout?(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession>;
  /** A hosted page that captures a bank account or card without a payment (Debitsuccess UpdatePaymentDetail). */
  createCapture?(input: CaptureInput, ctx: ConnectorContext): Promise<CaptureSession>;
  /** What came of a capture page: the provider's own answer, never the browser's say-so. */
  lookupCapture?(input: CaptureLookupInput, ctx: ConnectorContext): Promise<CaptureResult>;
  /** A payment link for a purchase (PayFast). */
  createPaymentLink?(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession>;
  /** Ask the provider what really happened to an attempt. Not getting an answer throws; it never invents one. */
  lookup?(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult>;
  /**
   * The provider's feed of payment results, read on a schedule (`timing.feedEveryMs`): results that no
   * notice brought (a webhook the provider disabled) and returns after success reach payrail this way.
   */
  readPaymentFeed?(input: PaymentFeedInput, ctx: ConnectorContext): Promise<PaymentFeedPage>;
  /** Check a callback's signature/token (and, where the provider requires it, confirm it with the provider). */
  verifyCallback?(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict>;
  /**
   * For a connector whose `verifyCallback` also asks the provider to confirm a callback (PayFast's validate
   * service): the checks the callback passes on its own (signature, sender, merchant), without that call.
   * payrail uses it only to recognise a notice that repeats exactly what an attempt has settled already (the
   * same transaction, status and amount): it changes nothing, so the provider is not asked. Anything else
   * is verified with `verifyCallback`.
   */
  checkCallback?(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict>;
  /** Where the customer replaces a tokenised card (PayFast). */
  cardUpdateUrl?(input: { token: string; returnUrl: string }, ctx: ConnectorContext): Promise<string>;
  /** Record money collected outside payrail. */
  allocate?(input: AllocationInput, ctx: ConnectorContext): Promise<AttemptResult>;
  /** Give back money of a succeeded attempt. Nothing sent (ConnectorError) means nothing refunded. */
  refund?(input: RefundInput, ctx: ConnectorContext): Promise<RefundResult>;
  /** What became of a refund whose outcome is pending or unknown: the provider's answer, never a guess. */
  lookupRefund?(input: RefundInput, ctx: ConnectorContext): Promise<RefundResult>;
  /**
   * Withdraw a stored token at the provider (a cancelled mandate: VodaPay's Token/Cancel), so that nothing can
   * be collected with it any more. Throws `ConnectorError` when the provider did not confirm it.
   */
  cancelToken?(input: { token: string; reference: string; customerId: string | null }, ctx: ConnectorContext): Promise<void>;
  /**
   * Close a hosted page or link nobody paid, when a new attempt replaces it (where the provider's protocol
   * allows it). Best effort: payrail has already marked the attempt superseded, and a payment that still
   * arrives on it is recorded as a late success.
   */
  cancelSession?(input: { merchantReference: string; providerReference: string | null; kind: LookupKind }, ctx: ConnectorContext): Promise<void>;
}
