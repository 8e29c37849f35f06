import type { ErrorType } from './http.ts';
import { ZAR } from './merchant.ts';

/**
 * The interface's message rules (seed 003, PROVIDERS.md), pure: every required field and format of a
 * Transaction (purchase, trial, lookup, reprint) and of an advice. A broken rule is a `Problem` naming the
 * field; the caller answers it as an ErrorDetail.
 */

export class Problem {
  constructor(
    readonly errorType: ErrorType,
    readonly detail: string,
  ) {}
}

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
/** RFC 3339 date-time (section 5.6), with or without fractions. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const METER_ID = /^[a-zA-Z0-9]{0,20}$/;
const TRACK2 = /^[a-zA-Z0-9=]{34}$/;
const MSISDN = /^(\+?[1-9]\d{1,14}|0\d{9})$/;
export const REVERSAL_REASONS = ['TIMEOUT', 'CANCELLED', 'RESPONSE_NOT_FINAL'] as const;
export type ReversalReason = (typeof REVERSAL_REASONS)[number];

export const isUuid4 = (v: unknown): boolean => typeof v === 'string' && UUID4.test(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const bad = (detail: string): never => {
  throw new Problem('FORMAT_ERROR', detail);
};

function object(parent: Record<string, unknown>, name: string, path: string): Record<string, unknown> {
  const v = parent[name];
  if (v === undefined || v === null) bad(`${path} is required`);
  if (!isObject(v)) bad(`${path} must be an object`);
  return v as Record<string, unknown>;
}

function string(parent: Record<string, unknown>, name: string, path: string, rule?: { max?: number; exactly?: number; pattern?: RegExp; what?: string; optional?: boolean }): string | undefined {
  const v = parent[name];
  if (v === undefined || v === null) {
    if (rule?.optional) return undefined;
    bad(`${path} is required`);
  }
  if (typeof v !== 'string') return bad(`${path} must be a string`);
  if (rule?.exactly !== undefined && v.length !== rule.exactly) bad(`${path} must be exactly ${rule.exactly} characters`);
  if (rule?.max !== undefined && v.length > rule.max) bad(`${path} must be at most ${rule.max} characters`);
  if (rule?.pattern && !rule.pattern.test(v)) bad(`${path} must be ${rule.what ?? `of the form ${rule.pattern.source}`}`);
  return v;
}

function institution(parent: Record<string, unknown>, name: string, path: string, optional = false): void {
  if (optional && (parent[name] === undefined || parent[name] === null)) return;
  const inst = object(parent, name, path);
  string(inst, 'id', `${path}.id`, { max: 40, pattern: /^\S.*$/, what: 'a non-empty identifier' });
  string(inst, 'name', `${path}.name`, { max: 40, pattern: /^\S.*$/, what: 'a non-empty name' });
}

/** The fields every Transaction carries: id, time, originator, client, thirdPartyIdentifiers (+ optional entities). */
export interface TransactionBase {
  id: string;
  time: string;
  originator: Record<string, unknown>;
  client: Record<string, unknown>;
  thirdPartyIdentifiers: unknown[];
  settlementEntity?: unknown;
  receiver?: unknown;
}

function transaction(body: unknown, pathId: string): TransactionBase {
  if (!isObject(body)) bad('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  string(b, 'id', 'id', { pattern: UUID4, what: 'a version 4 UUID' });
  string(b, 'time', 'time', { pattern: DATE_TIME, what: 'an RFC 3339 date-time' });
  if (Number.isNaN(Date.parse(b.time as string))) bad('time must be an RFC 3339 date-time');
  const originator = object(b, 'originator', 'originator');
  institution(originator, 'institution', 'originator.institution');
  string(originator, 'terminalId', 'originator.terminalId', { exactly: 8 });
  const merchant = object(originator, 'merchant', 'originator.merchant');
  string(merchant, 'merchantType', 'originator.merchant.merchantType', { pattern: /^[0-9]{4}$/, what: '4 digits' });
  string(merchant, 'merchantId', 'originator.merchant.merchantId', { exactly: 15 });
  const name = object(merchant, 'merchantName', 'originator.merchant.merchantName');
  string(name, 'name', 'originator.merchant.merchantName.name', { max: 22 });
  string(name, 'city', 'originator.merchant.merchantName.city', { max: 13 });
  string(name, 'region', 'originator.merchant.merchantName.region', { max: 2 });
  string(name, 'country', 'originator.merchant.merchantName.country', { max: 2 });
  institution(b, 'client', 'client');
  institution(b, 'settlementEntity', 'settlementEntity', true);
  institution(b, 'receiver', 'receiver', true);
  thirdPartyIdentifiers(b);
  if (b.id !== pathId) bad(`id ${String(b.id)} differs from the id in the path ${pathId}`);
  return b as unknown as TransactionBase;
}

function thirdPartyIdentifiers(b: Record<string, unknown>): void {
  const list = b.thirdPartyIdentifiers;
  if (list === undefined || list === null) bad('thirdPartyIdentifiers is required');
  if (!Array.isArray(list)) bad('thirdPartyIdentifiers must be an array');
  (list as unknown[]).forEach((entry, i) => {
    if (!isObject(entry)) bad(`thirdPartyIdentifiers[${i}] must be an object`);
    string(entry as Record<string, unknown>, 'institutionId', `thirdPartyIdentifiers[${i}].institutionId`, { max: 40 });
    string(entry as Record<string, unknown>, 'transactionIdentifier', `thirdPartyIdentifiers[${i}].transactionIdentifier`, { max: 100 });
  });
}

function meter(parent: Record<string, unknown>, path: string): { meterId: string } & Record<string, unknown> {
  const m = object(parent, 'meter', path);
  string(m, 'meterId', `${path}.meterId`, { pattern: METER_ID, what: 'at most 20 letters and digits' });
  string(m, 'track2Data', `${path}.track2Data`, { pattern: TRACK2, what: '34 letters, digits or =', optional: true });
  return m as { meterId: string } & Record<string, unknown>;
}

export interface PurchaseMessage extends TransactionBase {
  meter: { meterId: string } & Record<string, unknown>;
  purchaseAmount: { amount: number; currency: string };
  utilityType?: string;
  msisdn?: string;
}

/** A PurchaseRequest (purchase, retry, trial). Format only: amounts and meters are judged by the caller. */
export function purchaseRequest(body: unknown, pathId: string): PurchaseMessage {
  const base = transaction(body, pathId) as unknown as Record<string, unknown>;
  meter(base, 'meter');
  const amount = object(base, 'purchaseAmount', 'purchaseAmount');
  if (typeof amount.amount !== 'number' || !Number.isSafeInteger(amount.amount)) bad('purchaseAmount.amount must be an integer (minor units: cents)');
  if ((amount.amount as number) < 0) bad('purchaseAmount.amount must not be negative');
  string(amount, 'currency', 'purchaseAmount.currency', { pattern: /^[0-9]{3}$/, what: 'an ISO 4217 numeric code ("710")' });
  if (amount.ledgerIndicator !== undefined && amount.ledgerIndicator !== 'DEBIT' && amount.ledgerIndicator !== 'CREDIT') bad('purchaseAmount.ledgerIndicator must be DEBIT or CREDIT');
  string(base, 'utilityType', 'utilityType', { max: 40, optional: true });
  if (base.tenders !== undefined && !Array.isArray(base.tenders)) bad('tenders must be an array');
  if (base.paymentMethods !== undefined && !Array.isArray(base.paymentMethods)) bad('paymentMethods must be an array');
  if (base.msisdn !== undefined && (typeof base.msisdn !== 'string' || !MSISDN.test(base.msisdn))) throw new Problem('INVALID_MSISDN', 'msisdn must be E.164 or 10 digits starting with 0');
  if (amount.currency !== ZAR) throw new Problem('INVALID_AMOUNT', `purchaseAmount.currency must be ${ZAR} (rand)`);
  return base as unknown as PurchaseMessage;
}

export interface LookupMessage extends TransactionBase {
  meter: { meterId: string } & Record<string, unknown>;
}

export function meterLookupRequest(body: unknown, pathId: string): LookupMessage {
  const base = transaction(body, pathId) as unknown as Record<string, unknown>;
  meter(base, 'meter');
  return base as unknown as LookupMessage;
}

export interface ReprintMessage extends TransactionBase {
  meterId: string;
  originalRef?: string;
}

/**
 * A TokenReprintRequest: the meter as `meter.meterId` (as PROVIDERS.md writes it) or `meterId` (the interface's
 * own model); `originalRef` is the original purchase's id or its token's receipt number.
 */
export function reprintRequest(body: unknown, pathId: string): ReprintMessage {
  const base = transaction(body, pathId) as unknown as Record<string, unknown>;
  let meterId: string;
  if (base.meter !== undefined) meterId = meter(base, 'meter').meterId;
  else meterId = string(base, 'meterId', 'meterId', { pattern: METER_ID, what: 'at most 20 letters and digits' })!;
  const originalRef = string(base, 'originalRef', 'originalRef', { max: 100, optional: true });
  return { ...(base as unknown as TransactionBase), meterId, ...(originalRef === undefined ? {} : { originalRef }) };
}

export interface AdviceMessage {
  id: string;
  requestId: string;
  time: string;
  thirdPartyIdentifiers: unknown[];
  reversalReason?: ReversalReason;
}

/** A ConfirmationAdvice or ReversalAdvice: `{ id, requestId, time, thirdPartyIdentifiers }` (+ reversalReason / tenders). */
export function adviceMessage(body: unknown, kind: 'confirmation' | 'reversal', path: { purchaseId: string; adviceId: string }): AdviceMessage {
  if (!isObject(body)) bad('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  string(b, 'id', 'id', { pattern: UUID4, what: 'a version 4 UUID' });
  string(b, 'requestId', 'requestId', { pattern: UUID4, what: 'a version 4 UUID' });
  string(b, 'time', 'time', { pattern: DATE_TIME, what: 'an RFC 3339 date-time' });
  if (Number.isNaN(Date.parse(b.time as string))) bad('time must be an RFC 3339 date-time');
  thirdPartyIdentifiers(b);
  if (kind === 'reversal') {
    if (!(REVERSAL_REASONS as readonly unknown[]).includes(b.reversalReason)) bad(`reversalReason must be one of ${REVERSAL_REASONS.join(', ')}`);
  } else if (b.tenders !== undefined && !Array.isArray(b.tenders)) bad('tenders must be an array');
  if (b.id !== path.adviceId) bad(`id ${String(b.id)} differs from the id in the path ${path.adviceId}`);
  if (b.requestId !== path.purchaseId) bad(`requestId ${String(b.requestId)} differs from the purchase id in the path ${path.purchaseId}`);
  return b as unknown as AdviceMessage;
}
