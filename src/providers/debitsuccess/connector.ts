import { ConnectorError } from '../../lib/errors.ts';
import type { CaptureInput, CaptureLookupInput, CaptureResult, CaptureSession, Connector, ConnectorContext } from '../contract.ts';
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
const REFUSALS: Record<string, { kind: 'declined' | 'misconfigured' | 'protocol'; says: string }> = {
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
  const creds = debitsuccessCredentials(ctx.settings);
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
async function getPaymentToken(ctx: ConnectorContext, fields: Record<string, unknown>): Promise<{ token: string; webhookToken: string; validTo: Date; formUrl: string; raw: unknown }> {
  const answer = await message(ctx, 'GetPaymentToken', fields, 'nothing was captured');
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

export const debitsuccessConnector: Connector = {
  id: PROVIDER,
  settings: { key: 'debitsuccess', credentials: ['username', 'password'], hosts: { base: '/sandbox/debitsuccess' } },
  capabilities: { captures: ['BankAccount', 'CreditCard'] },
  timing: { firstCheckAfterMs: 60_000, sessionTtlMs: TOKEN_TTL_MS },

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
};
