import type { App } from '../../http/route-kit.ts';
import type { SandboxContext } from '../kit/kit.ts';
import { sandboxSessions } from '../kit/schema.ts';
import { ensureReservedAccounts, findAccount } from './accounts.ts';
import { amountCents, envelope, errorNote, newToken, PROVIDER, rand, text, validUser, type ResponseNote } from './merchant.ts';

/**
 * `POST /DSAPI/GetPaymentToken` (seed 002): every field, rule and error code. Answers 200 with the message
 * envelope whatever happened; `Status: "Failed"` and the ResponseNotes say what was wrong.
 */
export const TOKEN_LIFETIME_MS = 10 * 60_000;
const MAX_PER_TRANSACTION = 200_000;
const MAX_CREDIT = 50_000;
const REQUEST_TYPES = ['RealTimePayment', 'UpdatePaymentDetail'] as const;
const PAY_METHOD_TYPES = ['CreditCard', 'BankAccount', 'Both'] as const;

export interface TokenParams {
  AccountReferenceNo: string;
  ExternalAccountReferenceNo: string;
  PayMethodType: (typeof PAY_METHOD_TYPES)[number];
  RequestType: (typeof REQUEST_TYPES)[number];
  CreateOneOffCharge: boolean;
  PaymentNote: string | null;
  CallbackURL: string;
  AllowSavePayMethod: boolean | null;
  HideBranding: boolean;
  RequestInitiator: string | null;
  WebhookToken: string;
  /** When the form was first opened (the token is used from then on). */
  startedAt?: string;
}

const oneOf = <T extends string>(v: unknown, values: readonly T[]): T | null => (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : null);
/** A .NET boolean as JSON sends it; absent (or unreadable) is false, as the service's deserialiser makes it. */
const bool = (v: unknown): boolean | null => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : null);

function callbackNotes(raw: unknown): ResponseNote[] {
  const url = typeof raw === 'string' ? raw.trim() : '';
  if (url === '') return [errorNote('14039')];
  if (url.length > 256) return [errorNote('14040')];
  try {
    const parsed = new URL(url);
    if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && (parsed.hostname.includes('.') || parsed.hostname === 'localhost')) return [];
  } catch {
    // not a URL
  }
  return [errorNote('14043')];
}

export function registerGetPaymentToken(scope: App, ctx: SandboxContext): void {
  const formBase = `${scope.prefix}/PayNow/T/`;
  const empty = { Token: null, WebhookToken: null, ValidTo: null, PaymentFormURL: null };
  scope.post('/DSAPI/GetPaymentToken', async (request) => {
    const now = ctx.clock();
    const m = (request.body ?? {}) as Record<string, unknown>;
    if (typeof m !== 'object' || !validUser(m.User)) return envelope(now, [errorNote('02')], empty);

    const requestType = oneOf(m.RequestType, REQUEST_TYPES);
    const payMethodType = oneOf(m.PayMethodType, PAY_METHOD_TYPES);
    const createOneOffCharge = bool(m.CreateOneOffCharge) ?? false;
    const note = text(m.PaymentNote);
    const accountReferenceNo = text(m.AccountReferenceNo);
    const externalAccountReferenceNo = text(m.ExternalAccountReferenceNo);
    const notes: ResponseNote[] = [];
    if (!requestType) notes.push(errorNote('14034'));
    if (!payMethodType) notes.push(errorNote('14035'));
    if (requestType === 'RealTimePayment' && (m.Amount === undefined || m.Amount === null || m.Amount === '')) notes.push(errorNote('14036'));
    if (requestType === 'RealTimePayment' && payMethodType && payMethodType !== 'CreditCard') notes.push(errorNote('14038'));
    notes.push(...callbackNotes(m.CallbackURL));
    if (createOneOffCharge && note === null) notes.push(errorNote('14041'));
    if (note !== null && note.length > 30) notes.push(errorNote('14042'));
    if (accountReferenceNo === null && externalAccountReferenceNo === null) notes.push(errorNote('12016'));
    if (notes.length > 0 || !requestType || !payMethodType) return envelope(now, notes, empty);

    await ensureReservedAccounts(ctx);
    return ctx.database.transaction(async ({ db }) => {
      const found = await findAccount(db, { accountReferenceNo, externalAccountReferenceNo }, true, now);
      if (!found.ok) return envelope(now, [errorNote(found.code)], empty);
      const account = found.account;
      if (requestType === 'UpdatePaymentDetail' && account.kind === 'add_on') return envelope(now, [errorNote('14107')], empty);
      let amount: number | null = null;
      if (requestType === 'RealTimePayment') {
        // $2000 a transaction, and the account at most $500 in credit unless the payment pays its own one-off charge.
        const max = createOneOffCharge ? MAX_PER_TRANSACTION : Math.max(0, Math.min(MAX_PER_TRANSACTION, account.balanceCents + MAX_CREDIT));
        amount = amountCents(m.Amount);
        if (amount === null || amount < 1 || amount > max) return envelope(now, [errorNote('14044', rand(1), rand(max))], empty);
        if (account.kind === 'fixed_term' && amount > account.balanceCents) return envelope(now, [errorNote('14045')], empty);
      }
      const params: TokenParams = {
        AccountReferenceNo: account.accountReferenceNo,
        ExternalAccountReferenceNo: account.externalAccountReferenceNo ?? '',
        PayMethodType: payMethodType,
        RequestType: requestType,
        CreateOneOffCharge: createOneOffCharge,
        PaymentNote: note,
        CallbackURL: new URL(String(m.CallbackURL).trim()).href,
        AllowSavePayMethod: bool(m.AllowSavePayMethod),
        HideBranding: bool(m.HideBranding) ?? false,
        RequestInitiator: text(m.RequestInitiator),
        WebhookToken: newToken(),
      };
      const validTo = new Date(now.getTime() + TOKEN_LIFETIME_MS);
      for (let attempt = 0; attempt < 5; attempt++) {
        const token = newToken();
        const [row] = await db
          .insert(sandboxSessions)
          .values({ id: token, provider: PROVIDER, kind: requestType, merchantReference: account.accountReferenceNo, amountCents: amount, params, expiresAt: validTo, createdAt: now, updatedAt: now })
          .onConflictDoNothing()
          .returning({ id: sandboxSessions.id });
        if (row) return envelope(now, [], { Token: token, WebhookToken: params.WebhookToken, ValidTo: validTo.toISOString(), PaymentFormURL: `${ctx.config.publicUrl}${formBase}${token}` });
      }
      throw new Error('Debitsuccess sandbox: no free token after 5 draws');
    });
  });
}
