import { createHash, timingSafeEqual } from 'node:crypto';
import { ConnectorError } from '../../lib/errors.ts';
import type {
  AttemptResult,
  CallbackVerdict,
  CaptureInput,
  CheckoutInput,
  HostedSession,
  CaptureLookupInput,
  CaptureResult,
  CaptureSession,
  ChargeTokenInput,
  Connector,
  ConnectorContext,
  InboundRequest,
  LookupInput,
  PaymentFeedInput,
  PaymentFeedPage,
  VerifiedCallback,
} from '../contract.ts';
import { errorName, exchange } from '../kit/http.ts';
import { debitsuccessCredentials } from './credentials.ts';

/**
 * Debitsuccess (seed 002, PROVIDERS.md): the hosted payment form reached through GetPaymentToken. This
 * first part captures a bank account or a card without a payment (RequestType UpdatePaymentDetail); debit
 * orders, real-time card payments and their notices follow (README.md here says what is built).
 */

const PROVIDER = 'Debitsuccess';
/** The form accepts the customer for 10 minutes (seed 002: "The token has a lifespan of 10 minutes"). */
const TOKEN_TTL_MS = 10 * 60_000;

/** How each GetPaymentToken error code of seed 002 reaches payrail's caller. */
export const REFUSALS: Record<string, { kind: 'declined' | 'misconfigured' | 'protocol'; says: string }> = {
  '02': { kind: 'misconfigured', says: 'Debitsuccess refused payrail’s credentials' },
  '07': { kind: 'declined', says: 'Debitsuccess has more than one account for this customer' },
  '08': { kind: 'declined', says: 'Debitsuccess has no account for this customer' },
  '10': { kind: 'declined', says: 'The customer’s Debitsuccess account is not active' },
  '14107': { kind: 'declined', says: 'The customer’s Debitsuccess account is an add-on product: its payment details are the main account’s' },
  '14044': { kind: 'declined', says: 'Debitsuccess does not take this amount for this account' },
  '14045': { kind: 'declined', says: 'Debitsuccess does not take more than the outstanding balance of a fixed-term account' },
  // The rest name a request payrail built wrongly: nothing the caller can change.
  '12016': { kind: 'protocol', says: 'Debitsuccess needs an account reference' },
  '14034': { kind: 'protocol', says: 'Debitsuccess needs a RequestType' },
  '14035': { kind: 'protocol', says: 'Debitsuccess needs a PayMethodType' },
  '14036': { kind: 'protocol', says: 'Debitsuccess needs an amount for a real-time payment' },
  '14038': { kind: 'protocol', says: 'Debitsuccess takes real-time payments by card only' },
  '14039': { kind: 'protocol', says: 'Debitsuccess needs a CallbackURL' },
  '14040': { kind: 'protocol', says: 'Debitsuccess takes a CallbackURL of at most 256 characters' },
  '14041': { kind: 'protocol', says: 'Debitsuccess needs a PaymentNote with a one-off charge' },
  '14042': { kind: 'protocol', says: 'Debitsuccess takes a PaymentNote of at most 30 characters' },
  '14043': { kind: 'protocol', says: 'Debitsuccess refused the CallbackURL as malformed' },
};

interface Note {
  Code?: unknown;
  Note?: unknown;
  NoteType?: unknown;
}

/**
 * One message of Debitsuccess's message API (`POST {base}/DSAPI/{name}`, JSON, `User` first), its answer's
 * envelope read strictly: a `Succeed` answer's fields, or a ConnectorError that says what was refused.
 * `what` says what did not happen when it fails ("nothing was captured").
 */
async function message(ctx: ConnectorContext, name: string, fields: Record<string, unknown>, what: string): Promise<Record<string, unknown>> {
  const creds = debitsuccessCredentials(ctx.settings, ['username', 'password']);
  const body = JSON.stringify({ User: { Username: creds.username, Password: creds.password }, RequestInitiator: 'payrail', ...fields });
  const sent = await exchange(ctx, `${ctx.settings.baseUrl.replace(/\/+$/, '')}/DSAPI/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess could not be reached (${errorName(sent.error)}); nothing was sent.`);
  if (sent.kind === 'lost') throw new ConnectorError('timeout', PROVIDER, `Debitsuccess did not answer ${name} (${errorName(sent.error)}); ${what}.`);
  if (sent.status >= 500) throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess answered ${name} with ${sent.status}; ${what}.`);
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(sent.text) as Record<string, unknown>;
  } catch {
    throw new ConnectorError('protocol', PROVIDER, `Debitsuccess answered ${name} with ${sent.status} and a body that is not JSON.`);
  }
  if (sent.status !== 200 || answer === null || typeof answer !== 'object') throw new ConnectorError('protocol', PROVIDER, `Debitsuccess answered ${name} with ${sent.status}, without its message envelope.`);
  const notes = Array.isArray(answer.ResponseNotes) ? (answer.ResponseNotes as Note[]) : [];
  const error = notes.find((n) => n?.NoteType === 'Error');
  if (answer.Status !== 'Succeed' || error) {
    if (answer.Status === 'Unknown' && !error) throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess answered ${name} with Status Unknown; ${what}.`);
    const code = typeof error?.Code === 'string' ? error.Code : null;
    const note = typeof error?.Note === 'string' ? error.Note : null;
    const refusal = code ? REFUSALS[code] : undefined;
    const said = code ? ` (${code}${note ? ` ${note}` : ''})` : '';
    throw new ConnectorError(refusal?.kind ?? 'protocol', PROVIDER, `${refusal?.says ?? `Debitsuccess refused ${name}`}${said}.`, {
      extensions: { provider_code: code, provider_note: note },
    });
  }
  return answer;
}

/** GetPaymentToken (seed 002): the form's token, the notices' webhook token, the form's address and expiry. */
async function getPaymentToken(ctx: ConnectorContext, fields: Record<string, unknown>, what = 'nothing was captured'): Promise<{ token: string; webhookToken: string; validTo: Date; formUrl: string; raw: unknown }> {
  const answer = await message(ctx, 'GetPaymentToken', fields, what);
  const token = answer.Token;
  const webhookToken = answer.WebhookToken;
  const validTo = typeof answer.ValidTo === 'string' ? new Date(answer.ValidTo) : null;
  const formUrl = answer.PaymentFormURL;
  if (typeof token !== 'string' || !/^[A-Za-z0-9]{8}$/.test(token) || typeof webhookToken !== 'string' || webhookToken.length === 0 || typeof formUrl !== 'string' || !validTo || Number.isNaN(validTo.getTime())) {
    throw new ConnectorError('protocol', PROVIDER, 'Debitsuccess answered Succeed without a token, a webhook token, a form URL and its expiry.');
  }
  let form: URL;
  try {
    form = new URL(formUrl);
  } catch {
    throw new ConnectorError('protocol', PROVIDER, 'Debitsuccess answered a PaymentFormURL that is not a URL.');
  }
  if ((form.protocol !== 'https:' && form.protocol !== 'http:') || !form.href.includes(token)) throw new ConnectorError('protocol', PROVIDER, 'Debitsuccess answered a PaymentFormURL that does not carry its token.');
  // Its id and time, and what the form is for; never the tokens (they open the form and authenticate its notices).
  return { token, webhookToken, validTo, formUrl: form.href, raw: { Id: answer.Id ?? null, DateCreated: answer.DateCreated ?? null, ValidTo: answer.ValidTo } };
}

/**
 * GetAccountPaymentDetail (**connector choice**, sandbox README): the account's stored payment detail — its
 * type, last digits, holder and expiry, and the form token that stored it — and whether a form token is
 * Open, Used or Expired. A capture succeeded only when the detail of the asked type was stored by its own
 * token; a used token that stored nothing (an invalid account, details that did not load) failed.
 */
async function accountPaymentDetail(ctx: ConnectorContext, input: CaptureLookupInput): Promise<CaptureResult> {
  const answer = await message(ctx, 'GetAccountPaymentDetail', { ExternalAccountReferenceNo: input.accountReference, Token: input.providerReference }, 'nothing is known of the capture yet');
  const raw = { Id: answer.Id ?? null, TokenStatus: answer.TokenStatus ?? null, PayMethodType: answer.PayMethodType ?? null };
  if (answer.UpdatedByToken === input.providerReference && answer.PayMethodType === input.mediumType) {
    const last = typeof answer.LastDigits === 'string' && /^[0-9]{1,4}$/.test(answer.LastDigits) ? answer.LastDigits : null;
    const holder = typeof answer.AccountHolder === 'string' && answer.AccountHolder.trim() !== '' ? answer.AccountHolder.trim().slice(0, 100) : null;
    const reference = typeof answer.AccountReferenceNo === 'string' && answer.AccountReferenceNo !== '' ? answer.AccountReferenceNo : null;
    if (!last || !holder || !reference) throw new ConnectorError('protocol', PROVIDER, 'Debitsuccess answered a stored payment detail without its account reference, last digits or holder.');
    const expiry = typeof answer.ExpiryDate === 'string' ? /^(0[1-9]|1[0-2])\/([0-9]{2})$/.exec(answer.ExpiryDate) : null;
    return {
      status: 'captured',
      // Debit orders and charges are made against the customer's Debitsuccess account: its reference is the token.
      token: { value: reference, mediumType: input.mediumType, accountName: holder, accountNumber: last, ...(expiry ? { expiryMonth: Number(expiry[1]), expiryYear: 2000 + Number(expiry[2]) } : {}) },
      raw,
    };
  }
  if (answer.TokenStatus === 'Used') return { status: 'failed', failure: { code: 'not_stored', message: 'Debitsuccess kept no details from the form (an invalid account, or details that did not load).' }, raw };
  if (answer.TokenStatus === 'Expired') return { status: 'failed', failure: { code: 'expired', message: 'The form was not completed in time.' }, raw };
  if (answer.TokenStatus === 'Open') return { status: 'open', raw };
  throw new ConnectorError('protocol', PROVIDER, 'Debitsuccess does not know the capture’s form token for this account.');
}

/** An OAuth2 access token for the REST API (client credentials); asked for each call, so nothing is kept between calls. */
async function accessToken(ctx: ConnectorContext): Promise<string> {
  const creds = debitsuccessCredentials(ctx.settings, ['clientId', 'clientSecret']);
  const basic = Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64');
  const sent = await exchange(ctx, `${base(ctx)}/identity/connect/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  if (sent.kind !== 'answer') throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess's token service could not be reached (${errorName(sent.error)}); nothing was sent.`);
  if (sent.status === 400 || sent.status === 401) throw new ConnectorError('misconfigured', PROVIDER, `Debitsuccess refused payrail's client credentials (${sent.status}).`);
  let token: unknown;
  try {
    token = (JSON.parse(sent.text) as { access_token?: unknown }).access_token;
  } catch {
    token = null;
  }
  if (sent.status !== 200 || typeof token !== 'string' || token === '') throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess's token service answered ${sent.status} without a token; nothing was sent.`);
  return token;
}

const base = (ctx: ConnectorContext) => ctx.settings.baseUrl.replace(/\/+$/, '');
const rands = (cents: number) => (cents / 100).toFixed(2);
const centsOf = (amount: unknown): number | null => (typeof amount === 'number' && Number.isFinite(amount) ? Math.round(amount * 100) : null);

/**
 * A charge request to Debitsuccess's REST API (debit orders, card charges), with a fresh OAuth token. Nothing
 * sent throws (nothing can have happened); sent without an answer is `unknown`; otherwise its status and
 * JSON body (empty when it has none).
 */
async function postCharge(ctx: ConnectorContext, path: string, body: Record<string, unknown>): Promise<{ status: number; answer: Record<string, unknown> } | AttemptResult> {
  const token = await accessToken(ctx);
  const sent = await exchange(ctx, `${base(ctx)}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (sent.kind === 'not_sent') throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess could not be reached (${errorName(sent.error)}); nothing was sent.`);
  if (sent.kind === 'lost') return { status: 'unknown', providerReference: null, raw: { error: errorName(sent.error) } };
  let answer: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(sent.text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) answer = parsed as Record<string, unknown>;
  } catch {
    // read by its status alone
  }
  return { status: sent.status, answer };
}

/**
 * What a charge request's other answers mean (`what`: "debit order", "card payment"): a repeat of our
 * reference (409) is left to `lookup` — the first one exists, and is never made twice; refused credentials or
 * a busy Debitsuccess mean nothing was charged; a refused request fails the attempt; anything else is unknown.
 */
function refusedCharge(status: number, answer: Record<string, unknown>, what: string): AttemptResult {
  if (status === 409) return { status: 'unknown', providerReference: null, raw: { status: 409 } };
  if (status === 401) throw new ConnectorError('misconfigured', PROVIDER, `Debitsuccess refused payrail’s access token (401); no ${what} was made.`);
  if (status === 429 || status === 503) throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess answered ${status}; no ${what} was made.`);
  if (status === 400 || status === 404) {
    const errors = Array.isArray(answer.errors) ? (answer.errors as { message?: unknown }[]).map((e) => String(e?.message ?? '')).filter(Boolean) : [];
    const message = errors[0] ?? (typeof answer.message === 'string' ? answer.message : `Debitsuccess answered ${status}`);
    return { status: 'failed', providerReference: null, failure: { code: `debitsuccess_${status}`, message: `Debitsuccess refused the ${what}: ${message}`, kind: 'invalid' }, raw: { status } };
  }
  return { status: 'unknown', providerReference: null, raw: { status } };
}

const isResult = (r: { status: number | string }): r is AttemptResult => typeof r.status === 'string';

/**
 * A debit order against the bank account stored on the customer's Debitsuccess account (the medium's token
 * is the account reference): answered Pending at once, settled days later (the status webhook and feed, and
 * lookup). Our attempt's reference is the externalPaymentIdentifier, so a repeat of it is refused (409) and
 * the first order is found by lookup, never made twice.
 */
async function debitOrder(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult> {
  const sent = await postCharge(ctx, `/CustomerServices/v1.0/accounts/${encodeURIComponent(input.token)}/debitOrders`, {
    externalPaymentIdentifier: input.merchantReference,
    amount: rands(input.amount.amountCents),
    paymentNote: input.description.slice(0, 30),
  });
  if (isResult(sent)) return sent;
  const { status, answer } = sent;
  if (status !== 201) return refusedCharge(status, answer, 'debit order');
  const paymentId = typeof answer.paymentId === 'string' ? answer.paymentId : null;
  const cents = centsOf(answer.amount);
  if (!paymentId || answer.externalPaymentIdentifier !== input.merchantReference) return { status: 'unknown', providerReference: paymentId, raw: { reason: 'a 201 that does not name our debit order' } };
  return {
    status: 'pending',
    providerReference: paymentId,
    recheckAfterMs: DEBIT_ORDER_RECHECK_MS,
    ...(cents === null ? {} : { amount: { amountCents: cents, currency: 'ZAR' as const } }),
    raw: { paymentId, status: answer.status ?? null, bankDay: answer.bankDay ?? null },
  };
}

/**
 * A debit order Debitsuccess has: its result comes days later, and the status feed (and webhook) bring it; the
 * janitor asks about it only this often, as a backstop — asking about each of a billing run's thousand debit
 * orders every few minutes would read the whole status list a thousand times.
 */
const DEBIT_ORDER_RECHECK_MS = 6 * 3_600_000;

/** Debitsuccess's payment statuses as an attempt's: Pending and Retry wait; Cleared and Settled pay; the rest fail. */
const DEBIT_STATUS: Record<string, 'pending' | 'succeeded' | 'failed'> = {
  Pending: 'pending',
  Retry: 'pending',
  Cleared: 'succeeded',
  Settled: 'succeeded',
  Failed: 'failed',
  Unbillable: 'failed',
  CreditControl: 'failed',
};
const MAX_STATUS_PAGES = 40;

/** One page of the business's payment statuses from `start` (inclusive), oldest first, 50 at most. */
async function statusesPage(ctx: ConnectorContext, token: string, start: string, cursor: string | null): Promise<{ items: StatusEntry[]; nextCursor: string | null }> {
  const { businessId } = debitsuccessCredentials(ctx.settings, ['businessId']);
  const query = new URLSearchParams({ StartDateTime: start, Limit: '50', ...(cursor ? { nextCursor: cursor } : {}) });
  const sent = await exchange(ctx, `${base(ctx)}/CustomerServices/v1.0/businesses/${encodeURIComponent(businessId)}/paymentStatuses?${query}`, { headers: { authorization: `Bearer ${token}` } });
  if (sent.kind !== 'answer' || sent.status !== 200) throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess's payment statuses could not be read (${sent.kind === 'answer' ? sent.status : errorName(sent.error)}).`);
  let answer: { items?: unknown; nextCursor?: unknown };
  try {
    answer = JSON.parse(sent.text) as typeof answer;
  } catch {
    throw new ConnectorError('protocol', PROVIDER, 'Debitsuccess answered its payment statuses with a body that is not JSON.');
  }
  if (!answer || !Array.isArray(answer.items)) throw new ConnectorError('protocol', PROVIDER, 'Debitsuccess answered its payment statuses without items.');
  return { items: (answer.items as unknown[]).filter((i): i is StatusEntry => i !== null && typeof i === 'object'), nextCursor: typeof answer.nextCursor === 'string' && answer.nextCursor !== '' ? answer.nextCursor : null };
}

/**
 * What became of a debit order: its latest entry in the business's payment statuses since the attempt
 * started (Debitsuccess has no look-up of one payment), read as its webhook would be. A return after
 * Cleared/Settled is not a failure of the attempt (nothing moves a succeeded payment backwards): it stays
 * succeeded here, and the return comes by the webhook and the feed.
 */
async function debitOrderStatus(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
  const token = await accessToken(ctx);
  const since = new Date(input.startedAt.getTime() - 60_000).toISOString();
  let cursor: string | null = null;
  let latest: StatusEntry | null = null;
  let cleared = false;
  for (let page = 0; page < MAX_STATUS_PAGES; page++) {
    const { items, nextCursor } = await statusesPage(ctx, token, since, cursor);
    for (const item of items) {
      if (item.externalPaymentIdentifier !== input.merchantReference) continue;
      if (item.status === 'Cleared' || item.status === 'Settled') cleared = true;
      if (!(item.isReturn === true && cleared)) latest = item;
    }
    cursor = nextCursor;
    if (!cursor) break;
  }
  // Statuses left unread: this debit order may be among them, so nothing is concluded (never "absent").
  if (cursor && !latest) throw new ConnectorError('unavailable', PROVIDER, `More than ${MAX_STATUS_PAGES * 50} payment statuses since the debit order started; its own is left to the status feed.`);
  const notice = latest ? statusNotice(latest) : null;
  if (!notice) return { status: 'pending', providerReference: input.providerReference, absent: true, raw: { reason: 'no payment status names this debit order yet' } };
  return notice.result;
}

/**
 * A card kept on the customer's Debitsuccess account charged now (`POST /payments/v1.0/account/creditcard`, the
 * sandbox README gives the body): 201 authorised or declined, 202 processing (asked again by `lookup`). Our
 * attempt's reference is the externalPaymentIdentifier, so a repeat is refused (409) and the first charge is
 * found by `lookup`, never made twice.
 */
async function cardCharge(input: ChargeTokenInput, ctx: ConnectorContext): Promise<AttemptResult> {
  const sent = await postCharge(ctx, '/payments/v1.0/account/creditcard', {
    accountId: input.token,
    externalPaymentIdentifier: input.merchantReference,
    amount: Number(rands(input.amount.amountCents)),
    paymentNote: input.description.slice(0, 30),
  });
  if (isResult(sent)) return sent;
  return sent.status === 201 || sent.status === 202 ? cardOutcome(sent.answer, input.merchantReference) : refusedCharge(sent.status, sent.answer, 'card payment');
}

/** A card charge's answer as an attempt's: authorised pays, declined_* fail, processing waits; one not ours is unknown. */
function cardOutcome(answer: Record<string, unknown>, merchantReference: string): AttemptResult {
  const paymentId = typeof answer.paymentId === 'string' ? answer.paymentId : null;
  const raw = { paymentId, status: answer.status ?? null };
  if (!paymentId || answer.externalPaymentIdentifier !== merchantReference) return { status: 'unknown', providerReference: paymentId, raw: { ...raw, reason: 'an answer that does not name our card payment' } };
  const cents = centsOf(answer.amount);
  const status = typeof answer.status === 'string' ? answer.status : '';
  const reason = typeof answer.declineReason === 'string' && answer.declineReason !== '' ? answer.declineReason : status;
  if (status === 'authorised') return { status: 'succeeded', providerReference: paymentId, ...(cents === null ? {} : { amount: { amountCents: cents, currency: 'ZAR' as const } }), raw };
  if (status === 'processing') return { status: 'pending', providerReference: paymentId, raw };
  if (status === 'declined_insufficient_funds') return { status: 'failed', providerReference: paymentId, failure: { code: status, message: reason, kind: 'insufficient_funds' }, raw };
  if (status === 'declined' || status.startsWith('declined_')) return { status: 'failed', providerReference: paymentId, failure: { code: status, message: reason, kind: 'declined' }, raw };
  return { status: 'unknown', providerReference: paymentId, raw };
}

/** What became of a card charge: `GET /payments/v1.0/account/creditcard/{externalPaymentIdentifier}`; 404 is "no such payment". */
async function cardChargeStatus(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
  const token = await accessToken(ctx);
  const sent = await exchange(ctx, `${base(ctx)}/payments/v1.0/account/creditcard/${encodeURIComponent(input.merchantReference)}`, { headers: { authorization: `Bearer ${token}` } });
  if (sent.kind !== 'answer') throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess could not be asked about the card payment (${errorName(sent.error)}).`);
  if (sent.status === 404) return { status: 'pending', providerReference: input.providerReference, absent: true, raw: { status: 404 } };
  if (sent.status !== 200) throw new ConnectorError('unavailable', PROVIDER, `Debitsuccess answered ${sent.status} when asked about the card payment.`);
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(sent.text) as Record<string, unknown>;
  } catch {
    throw new ConnectorError('protocol', PROVIDER, 'Debitsuccess answered a card payment with a body that is not JSON.');
  }
  return cardOutcome(answer, input.merchantReference);
}

/** A payment-status entry as the REST list (camelCase) and the status webhook (PascalCase) spell it. */
interface StatusEntry {
  paymentId: unknown;
  externalPaymentIdentifier: unknown;
  amount: unknown;
  status: unknown;
  statusReason: unknown;
  isReturn: unknown;
  statusDateTime: unknown;
}

const fromWebhook = (b: Record<string, unknown>): StatusEntry => ({
  paymentId: b.PaymentId,
  externalPaymentIdentifier: b.ExternalPaymentIdentifier,
  amount: b.Amount,
  status: b.Status,
  statusReason: b.StatusReason,
  isReturn: b.IsReturn,
  statusDateTime: b.StatusDateTime,
});

/** One status change's identity: the payment, its status, whether it is a return, and when. */
const entryId = (e: StatusEntry): string => `${String(e.paymentId)}:${String(e.status)}${e.isReturn === true ? ':return' : ''}:${String(e.statusDateTime)}`;

/**
 * What one status change says of our attempt, as a verified notice: Pending/Retry wait, Cleared/Settled pay,
 * Failed/Unbillable/CreditControl fail — and a Failed entry with `isReturn` (after Cleared/Settled) is a
 * return of a payment that succeeded. Null for an entry that names no debit order of a merchant reference.
 */
function statusNotice(e: StatusEntry): VerifiedCallback | null {
  if (typeof e.externalPaymentIdentifier !== 'string' || e.externalPaymentIdentifier === '' || typeof e.paymentId !== 'string') return null;
  const at = typeof e.statusDateTime === 'string' ? new Date(e.statusDateTime) : null;
  const occurredAt = at && !Number.isNaN(at.getTime()) ? at : null;
  const cents = centsOf(e.amount);
  const amount = cents === null ? {} : { amount: { amountCents: cents, currency: 'ZAR' as const } };
  const raw = { paymentId: e.paymentId, status: e.status ?? null, statusDateTime: e.statusDateTime ?? null, isReturn: e.isReturn === true };
  const reason = typeof e.statusReason === 'string' && e.statusReason !== '' ? e.statusReason : String(e.status);
  const base = { eventId: entryId(e), merchantReference: e.externalPaymentIdentifier, providerReference: e.paymentId, occurredAt };
  if (e.isReturn === true) {
    return { ...base, kind: 'payment_return', result: { status: 'succeeded', providerReference: e.paymentId, ...amount, raw }, returned: { code: String(e.status), message: reason } };
  }
  const status = DEBIT_STATUS[String(e.status)];
  if (status === 'failed') {
    return { ...base, kind: 'payment', result: { status, providerReference: e.paymentId, failure: { code: String(e.status), message: reason, kind: /insufficient/i.test(reason) ? 'insufficient_funds' : 'declined' }, raw } };
  }
  // A status this connector does not know is not a result: the attempt waits.
  if (status !== 'succeeded') return { ...base, kind: 'payment', result: { status: 'pending', providerReference: e.paymentId, recheckAfterMs: DEBIT_ORDER_RECHECK_MS, raw } };
  return { ...base, kind: 'payment', result: { status, providerReference: e.paymentId, ...amount, raw } };
}

/**
 * The feed's bookmark (**connector choice**). Debitsuccess's cursor ends with the last page, so between reads
 * payrail keeps the newest status time read and short hashes of the entries read at exactly that instant: the
 * next read starts there (StartDateTime is inclusive) and skips those entries, so one that arrives later
 * stamped with the same instant is still read. Once the newest time is older than SETTLED_AFTER_MS, nothing
 * more can arrive stamped with it, and the bookmark moves a millisecond past it. A read that stops with pages
 * left keeps Debitsuccess's cursor (with the query it belongs to), and the next read goes on from it.
 */
interface Bookmark {
  /** The query being read: from this instant, skipping these entries stamped with it. */
  start: string;
  skip: string[];
  /** Pages left of that query. */
  cursor: string | null;
  /** The newest instant read so far, and the entries read at it. */
  newest: string;
  atNewest: string[];
}
const SETTLED_AFTER_MS = 5 * 60_000;
const FEED_PAGES_PER_READ = 20;
const shortHash = (id: string): string => createHash('sha256').update(id).digest('base64url').slice(0, 12);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const instant = (v: unknown): string | null => (typeof v === 'string' && !Number.isNaN(new Date(v).getTime()) ? new Date(v).toISOString() : null);

function bookmarkOf(position: string | null, startAt: Date): Bookmark {
  if (position) {
    try {
      const b = JSON.parse(position) as Record<string, unknown>;
      const start = instant(b.start);
      const newest = instant(b.newest);
      if (start && newest) return { start, skip: strings(b.skip), cursor: typeof b.cursor === 'string' && b.cursor !== '' ? b.cursor : null, newest, atNewest: strings(b.atNewest) };
    } catch {
      // a bookmark this connector did not write: start over from startAt
    }
  }
  const start = startAt.toISOString();
  return { start, skip: [], cursor: null, newest: start, atNewest: [] };
}

/**
 * Debitsuccess's payment statuses as a feed (`GET …/businesses/{id}/paymentStatuses`, oldest first, 50 a
 * page): every status change since the bookmark, as verified notices. Debit orders of the business that are
 * not payrail's are included; the caller skips what it does not know.
 */
async function readStatusFeed(input: PaymentFeedInput, ctx: ConnectorContext): Promise<PaymentFeedPage> {
  const token = await accessToken(ctx);
  const mark = bookmarkOf(input.position, input.startAt);
  const skip = new Set(mark.skip);
  const entries: VerifiedCallback[] = [];
  let atNewest = new Set(mark.atNewest);
  let cursor = mark.cursor;
  for (let page = 0; page < FEED_PAGES_PER_READ; page++) {
    const { items, nextCursor } = await statusesPage(ctx, token, mark.start, cursor);
    for (const item of items) {
      const time = instant(item.statusDateTime);
      if (!time) continue;
      const hash = shortHash(entryId(item));
      if (time === mark.start && skip.has(hash)) continue;
      if (time > mark.newest) {
        mark.newest = time;
        atNewest = new Set([hash]);
      } else if (time === mark.newest) atNewest.add(hash);
      const notice = statusNotice(item);
      if (notice) entries.push(notice);
    }
    cursor = nextCursor;
    if (!cursor) break;
  }
  mark.atNewest = [...atNewest];
  let next: Bookmark;
  if (cursor) next = { ...mark, cursor };
  else if (new Date(mark.newest).getTime() < ctx.clock().getTime() - SETTLED_AFTER_MS) {
    const after = new Date(new Date(mark.newest).getTime() + 1).toISOString();
    next = { start: after, skip: [], cursor: null, newest: after, atNewest: [] };
  } else next = { start: mark.newest, skip: mark.atNewest, cursor: null, newest: mark.newest, atNewest: mark.atNewest };
  return { entries, position: JSON.stringify(next), more: cursor !== null };
}

/**
 * A real-time card payment's result (`Realtime.Account.Payment.Authorized` / `…Declined`): it names the
 * payment by the form's token (ExternalTransactionIdentifier), payrail's provider reference of the attempt.
 */
function realtimeNotice(event: string, body: Record<string, unknown>): CallbackVerdict {
  const token = body.ExternalTransactionIdentifier;
  if (typeof token !== 'string' || token === '') return { ok: false, reason: 'a real-time payment notice without its ExternalTransactionIdentifier' };
  const approved = event === 'Realtime.Account.Payment.Authorized';
  const cents = centsOf(body.Amount);
  const raw = { event, token, accountReference: body.AccountReference ?? null };
  const reason = typeof body.DeclinedReason === 'string' && body.DeclinedReason !== '' ? body.DeclinedReason : 'Declined';
  const result: AttemptResult = approved
    ? { status: 'succeeded', providerReference: token, ...(cents === null ? {} : { amount: { amountCents: cents, currency: 'ZAR' as const } }), raw }
    : { status: 'failed', providerReference: token, failure: { code: 'Declined', message: reason, kind: /insufficient/i.test(reason) ? 'insufficient_funds' : 'declined' }, raw };
  return { ok: true, callback: { eventId: `${token}:${approved ? 'Authorized' : 'Declined'}`, kind: 'payment', merchantReference: null, providerReference: token, result, occurredAt: null } };
}

/**
 * A real-time card payment on Debitsuccess's form (SPEC §11, "Add new payment method" when the operator's
 * card provider is Debitsuccess): GetPaymentToken with RequestType RealTimePayment for the purchase's amount,
 * as a one-off charge (it pays itself, not the account's balance), the customer's account named by
 * payrail's customer id. The form sends the browser to `returnUrl` with a Status — only a hint: the payment is
 * settled by the Realtime webhook (X-Token) or by asking GetCardPaymentStatusForCustomerAccount.
 */
async function realTimeCheckout(input: CheckoutInput, ctx: ConnectorContext): Promise<HostedSession> {
  const note = input.description.trim().slice(0, 30) || 'Payment';
  const session = await getPaymentToken(
    ctx,
    {
      ExternalAccountReferenceNo: input.customer.id,
      PayMethodType: 'CreditCard',
      RequestType: 'RealTimePayment',
      Amount: Number(rands(input.amount.amountCents)),
      CreateOneOffCharge: true,
      PaymentNote: note,
      CallbackURL: input.returnUrl,
      // Debitsuccess's stored card is not charged by payrail (no card charges through Debitsuccess yet): nothing to keep.
      AllowSavePayMethod: false,
    },
    'nothing was charged',
  );
  return { redirectUrl: session.formUrl, providerReference: session.token, expiresAt: session.validTo, raw: session.raw };
}

/** GetCardPaymentStatusForCustomerAccount's TransactionStatus as an attempt's (the sandbox README: the Token identifies the payment). */
async function realTimeStatus(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
  if (!input.providerReference || !input.customerId) return { status: 'unknown', providerReference: input.providerReference, absent: true, raw: { reason: 'no form token or customer to ask by' } };
  let answer: Record<string, unknown>;
  try {
    answer = await message(ctx, 'GetCardPaymentStatusForCustomerAccount', { ExternalAccountReferenceNo: input.customerId, ExternalTransactionIdentifier: input.providerReference }, 'nothing is known of the payment yet');
  } catch (err) {
    // 08: Debitsuccess has no such payment for the account: not there (yet).
    if (err instanceof ConnectorError && err.extensions?.provider_code === '08') return { status: 'pending', providerReference: input.providerReference, absent: true, raw: { code: '08' } };
    throw err;
  }
  const status = answer.TransactionStatus;
  const raw = { Id: answer.Id ?? null, TransactionStatus: status ?? null };
  const token = input.providerReference;
  switch (status) {
    case 'Authorised':
      return { status: 'succeeded', providerReference: token, raw };
    case 'Declined':
      return { status: 'failed', providerReference: token, failure: { code: 'Declined', message: 'Debitsuccess declined the card payment', kind: 'declined' }, raw };
    case 'StatusRequired':
      // The form ended without a payment (expired, or closed): nobody can pay on it any more.
      return { status: 'failed', providerReference: token, failure: { code: 'StatusRequired', message: 'The payment form ended without a payment', kind: 'expired' }, raw };
    case 'Processing':
    case 'Requires3ds':
      return { status: 'pending', providerReference: token, raw };
    default:
      return { status: 'unknown', providerReference: token, raw };
  }
}

/** Two strings compared in constant time (the webhook's X-Token). */
function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * Debitsuccess's webhooks, all to the facility's one URL: a debit order's status change
 * (`Account.Payment.StatusChanged`) and real-time card results (`Realtime.Account.Payment.*`) carry the
 * agreed static `X-Token`; the PayNow form's per-facility notice carries its WebhookToken in the body.
 */
async function verifyWebhook(request: InboundRequest, ctx: ConnectorContext): Promise<CallbackVerdict> {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(request.rawBody) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'the body is not a JSON object' };
  const event = headers['x-eventname'];
  if (event === undefined && typeof body.WebhookToken === 'string') {
    // The form's notice (seed 002's per-facility webhook): it carries the page's WebhookToken, which payrail
    // checks against the capture's; the capture is then settled by asking Debitsuccess, never by the notice.
    const account = body.ExternalAccountReferenceNo;
    if (typeof account !== 'string' || account === '' || body.WebhookToken === '') return { ok: false, reason: 'a form notice without its account or WebhookToken' };
    return {
      ok: true,
      callback: {
        eventId: 'form-notice',
        kind: 'capture_notice',
        merchantReference: null,
        providerReference: null,
        captureNotice: { accountReference: account, secret: body.WebhookToken },
        result: { status: 'pending', providerReference: null, raw: { status: body.Status ?? null } },
        occurredAt: null,
      },
    };
  }
  const expected = debitsuccessCredentials(ctx.settings, ['webhookToken']).webhookToken;
  const given = headers['x-token'];
  if (typeof given !== 'string' || !sameSecret(given, expected)) return { ok: false, reason: 'X-Token is missing or not the agreed token' };
  if (event === 'Realtime.Account.Payment.Authorized' || event === 'Realtime.Account.Payment.Declined') return realtimeNotice(event, body);
  if (event !== 'Account.Payment.StatusChanged') return { ok: false, reason: `payrail takes no action on ${String(event ?? 'an unnamed event')} from Debitsuccess` };
  const notice = statusNotice(fromWebhook(body));
  if (!notice) return { ok: false, reason: 'the status change names no debit order of a merchant reference' };
  return { ok: true, callback: notice };
}

export const debitsuccessConnector: Connector = {
  id: PROVIDER,
  settings: { key: 'debitsuccess', credentials: ['username', 'password', 'client_id', 'client_secret', 'business_id', 'webhook_token'], hosts: { base: '/sandbox/debitsuccess' } },
  capabilities: { captures: ['BankAccount', 'CreditCard'], tokenCharges: ['BankAccount', 'CreditCard'], defaultFor: ['BankAccount', 'CreditCard'] },
  // The facility's one webhook URL (Debitsuccess stores it per facility, not per request). Answered 200 at
  // once: Debitsuccess disables a webhook after four failed deliveries. A status change settles by itself
  // (its X-Token is the agreed secret), and the status feed brings whatever a disabled webhook did not.
  callbacks: [{ channel: 'webhook', path: '/callbacks/debitsuccess/webhook', answer: 'first', settles: 'itself', claimedReference: claimedDebitOrder }],
  // A debit order is Pending for days: the janitor asks after a minute, then ever less often (at most hourly).
  // Its creation is in the statuses at once, so one not there after 10 minutes never arrived. The status feed
  // is read every minute.
  // A form opened just before its token expires takes a submit for 10 minutes from the opening: its payment
  // may be reported up to then (settle window).
  // A debit order may be returned weeks after it cleared (a dispute by the account holder; 40 days is the
  // usual limit in South Africa): the status feed is watched that long after the last one was in flight.
  timing: { firstCheckAfterMs: 60_000, sessionTtlMs: TOKEN_TTL_MS, settleWindowMs: TOKEN_TTL_MS + 5 * 60_000, deadlineMs: 10 * 60_000, feedEveryMs: 60_000, feedWatchMs: 40 * 24 * 3_600_000 },

  // A bank account is collected by debit order; a card kept on the account is charged now.
  chargeToken: (input, ctx) => (input.mediumType === 'CreditCard' ? cardCharge(input, ctx) : debitOrder(input, ctx)),

  createCheckout: realTimeCheckout,

  async lookup(input: LookupInput, ctx: ConnectorContext): Promise<AttemptResult> {
    if (input.kind === 'hosted') return realTimeStatus(input, ctx);
    if (input.kind !== 'token') return { status: 'unknown', providerReference: input.providerReference, absent: true, raw: { reason: 'payrail makes no Debitsuccess payments of this kind' } };
    return input.mediumType === 'CreditCard' ? cardChargeStatus(input, ctx) : debitOrderStatus(input, ctx);
  },

  async createCapture(input: CaptureInput, ctx: ConnectorContext): Promise<CaptureSession> {
    const session = await getPaymentToken(ctx, {
      ExternalAccountReferenceNo: input.accountReference,
      PayMethodType: input.mediumType === 'BankAccount' ? 'BankAccount' : 'CreditCard',
      RequestType: 'UpdatePaymentDetail',
      CreateOneOffCharge: false,
      CallbackURL: input.returnUrl,
      AllowSavePayMethod: true,
    });
    return { redirectUrl: session.formUrl, providerReference: session.token, expiresAt: session.validTo, noticeSecret: session.webhookToken, raw: session.raw };
  },

  lookupCapture: (input, ctx) => accountPaymentDetail(ctx, input),

  readPaymentFeed: readStatusFeed,

  verifyCallback: verifyWebhook,
};

/** The debit order a status webhook says it is about, read before verification (it holds the janitor back, nothing more). */
function claimedDebitOrder(rawBody: string): string | null {
  const body = JSON.parse(rawBody) as { ExternalPaymentIdentifier?: unknown };
  return typeof body?.ExternalPaymentIdentifier === 'string' ? body.ExternalPaymentIdentifier.slice(0, 200) : null;
}
