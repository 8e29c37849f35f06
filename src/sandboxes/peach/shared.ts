import { randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../kit/kit.ts';
import { formatRand, type LedgerRow } from '../kit/kit.ts';
import { sandboxSessions } from '../kit/schema.ts';
import { peachCredential, type PeachCredential } from '../../providers/peach/credentials.ts';
import { withSignature } from '../../providers/peach/signature.ts';

/** A Peach result: its code and description (and, on a refusal, what was wrong with which parameter). */
export interface PeachResult {
  code: string;
  description: string;
  parameterErrors?: { name: string; value?: string; message: string }[];
}

/** What the Peach sandbox's routes share: its merchant, ids, result codes, answers and the checkout fields. */
export const PROVIDER = 'PeachPayments';
export const CHECKOUT_TTL_MS = 30 * 60_000;
export const HEX32 = /^[0-9a-f]{32}$/;
export const newId = (): string => randomBytes(16).toString('hex');

/** The one merchant the sandbox knows: payrail's configured Peach credentials, else the sandbox's own. */
export function sandboxMerchant(ctx: SandboxContext): Record<PeachCredential, string> {
  const settings = { baseUrl: '', hosts: {}, sandbox: true, credentials: ctx.config.providers.peach?.credentials ?? {} };
  return {
    entity_id: peachCredential(settings, 'entity_id'),
    secret_token: peachCredential(settings, 'secret_token'),
    access_token: peachCredential(settings, 'access_token'),
  };
}

/** Peach's codes and descriptions where it publishes them; the rest are ours (README.md). */
export const RESULTS = {
  checkoutCreated: { code: '000.200.100', description: 'successfully created checkout' },
  approved: { code: '000.100.110', description: "Request successfully processed in 'Merchant in Integrator Test Mode'" },
  pending: { code: '000.200.000', description: 'transaction pending' },
  declined: { code: '800.100.100', description: 'transaction declined for unknown reason' },
  insufficientFunds: { code: '800.100.155', description: 'transaction declined (amount exceeds credit)' },
  cancelled: { code: '100.396.101', description: 'Cancelled by user' },
  invalidParameter: { code: '200.300.404', description: 'invalid or missing parameter' },
  unauthorised: { code: '800.900.300', description: 'invalid authentication information' },
  badRegistrationId: { code: '100.150.101', description: 'invalid format of specified registration ID (must be uuid)' },
  noRegistration: { code: '100.350.101', description: 'referenced registration does not exist' },
  querySucceeded: { code: '000.000.100', description: 'successful request' },
  noTransaction: { code: '700.400.580', description: 'cannot find transaction' },
  unavailable: { code: '900.100.400', description: 'timeout at connectors/acquirer side, please try again' },
  throttled: { code: '800.120.100', description: 'Too many requests. Please try again later.' },
  refundRefused: { code: '700.400.200', description: 'cannot refund (refund volume exceeded or tx reversed or invalid workflow?)' },
} as const satisfies Record<string, PeachResult>;

/** Card outcomes the sandbox charges, with the result each records. */
export const DECLINES = { decline: RESULTS.declined, insufficient_funds: RESULTS.insufficientFunds } as const;
/** What the issuer said, as Peach passes it on in resultDetails (SPEC §6: "DO NOT HONOUR"). */
export const ISSUER_TEXT: Readonly<Record<string, string>> = { '800.100.100': 'DO NOT HONOUR', '800.100.155': 'INSUFFICIENT FUNDS' };

/** Peach's API error shape: `{ result: { code, description, parameterErrors? }, timestamp, ndc }`. */
export function peachError(reply: FastifyReply, status: number, result: PeachResult, parameterErrors?: PeachResult['parameterErrors']): FastifyReply {
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .send({ result: { ...result, ...(parameterErrors?.length ? { parameterErrors } : {}) }, timestamp: new Date().toISOString(), ndc: newId() });
}

export const html = (reply: FastifyReply, status: number, body: string): FastifyReply => reply.status(status).type('text/html; charset=utf-8').send(body);

/** A body or query of string fields only (a repeated field or a nested value is not Peach's format), or null. */
export function stringFields(value: unknown): Record<string, string> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value);
  return entries.every(([, v]) => typeof v === 'string') ? Object.fromEntries(entries as [string, string][]) : null;
}

export function isWebUrl(value: string | undefined, maxLength = 2048): boolean {
  if (value === undefined || value.length > maxLength) return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** `Authorization: Bearer <access token>`, compared in constant time. */
export function bearerOk(request: FastifyRequest, accessToken: string): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  const given = Buffer.from(match?.[1] ?? '');
  const expected = Buffer.from(accessToken);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function brandOf(bin: string): string {
  if (bin.startsWith('4')) return 'VISA';
  if (/^(5[1-5]|2[2-7])/.test(bin)) return 'MASTER';
  if (/^3[47]/.test(bin)) return 'AMEX';
  return 'DINERS';
}

/** What the ledger keeps of a card and a payment beside its own columns. */
export interface PaymentDetails {
  paymentType: string;
  paymentBrand: string;
  holder: string;
  expiryMonth: number;
  expiryYear: number;
  /** A checkout that stored the card. */
  registrationId?: string;
  /** A charge of a registration: the standing instruction it was sent with. */
  standingInstruction?: StandingInstruction;
  /** Test card …0077: the checkout ended cancelled and the payment turns successful later (late-success.ts). */
  lateSuccess?: boolean;
  /** When a late success happened (ISO-8601): the success's `timestamp`. */
  settledAt?: string;
  /** A refund (kind `refund`): the payment it gives money back of. */
  refunded_transaction_id?: string;
  /** A refund: why (Peach's refund takes no reason, so always null here). */
  reason?: string | null;
}

export interface StandingInstruction {
  mode: string;
  type: string;
  source: string;
  initialTransactionId?: string;
}

export type SessionRow = typeof sandboxSessions.$inferSelect;
export type SessionState = 'open' | 'completed' | 'expired' | 'cancelled';

/** A checkout left open past its 30 minutes is expired, whether or not anyone looked at it since. */
export function stateOf(session: SessionRow, now: Date): SessionState {
  if (session.status === 'open' && session.expiresAt !== null && session.expiresAt.getTime() <= now.getTime()) return 'expired';
  return session.status as SessionState;
}

export async function loadCheckout(ctx: SandboxContext, checkoutId: string): Promise<SessionRow | null> {
  if (!HEX32.test(checkoutId)) return null;
  const [row] = await ctx.database.db
    .select()
    .from(sandboxSessions)
    .where(and(eq(sandboxSessions.id, checkoutId), eq(sandboxSessions.provider, PROVIDER), eq(sandboxSessions.kind, 'checkout')))
    .limit(1);
  return row ?? null;
}

export const paramsOf = (session: SessionRow): Record<string, string> => session.params as Record<string, string>;

/**
 * The signed fields Peach sends back about a checkout — to shopperResultUrl, to notificationUrl and as the
 * status answer — with the payment's details once there is one.
 */
export function checkoutFields(session: SessionRow, payment: LedgerRow | null, result: PeachResult, now: Date, secretToken: string): Record<string, string> {
  const params = paramsOf(session);
  const fields: Record<string, string> = {
    amount: formatRand(session.amountCents ?? 0),
    checkoutId: session.id,
    currency: session.currency,
    merchantTransactionId: session.merchantReference ?? '',
    paymentType: params.paymentType ?? 'DB',
    'result.code': result.code,
    'result.description': result.description,
    timestamp: payment ? ((payment.details as Partial<PaymentDetails>).settledAt ?? payment.createdAt.toISOString()) : now.toISOString(),
  };
  if (payment) {
    const d = payment.details as Partial<PaymentDetails>;
    Object.assign(fields, {
      id: payment.id,
      paymentBrand: d.paymentBrand ?? brandOf(payment.cardBin ?? ''),
      'card.bin': payment.cardBin ?? '',
      'card.last4Digits': payment.cardLast4 ?? '',
      'card.holder': d.holder ?? '',
      'card.expiryMonth': String(d.expiryMonth ?? '').padStart(2, '0'),
      'card.expiryYear': String(d.expiryYear ?? ''),
      ...(ISSUER_TEXT[payment.resultCode] ? { 'resultDetails.ExtendedDescription': ISSUER_TEXT[payment.resultCode] } : {}),
      ...(d.registrationId ? { registrationId: d.registrationId } : {}),
    });
  }
  return withSignature(fields, secretToken);
}
