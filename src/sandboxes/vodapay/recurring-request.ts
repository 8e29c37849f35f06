import { electronicReceiptOf, field, isObject, optBool, optEnum, optInt, optObject, optString, optUrl, refuse, reqInt, reqString, traceIdOf, UUID, type Json } from './fields.ts';

/**
 * `POST /V2/Pay/Recurring`'s body, checked field by field as seed 001 describes it (README.md, "Recurring").
 * The first bad field refuses the request with D2 naming it (D1 for a category this merchant has no service
 * level for). Pure: the caller gives "today".
 */
export type Category = 1 | 6 | 11;
export type Frequency = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

export interface MandateTerms {
  category: Category;
  frequency: Frequency;
  regularPaymentDay: number | null;
  amountCents: number | null;
  amountLimitCents: number | null;
  firstPaymentDate: string | null;
  lastPaymentDate: string | null;
  numberOfInstallments: number | null;
  validityMonths: number;
}

export interface BasketLine {
  lineNumber: number;
  id: string;
  barcode: string;
  quantity: number;
  description: string;
  amountExVAT: number;
  amountVAT: number;
}

export interface RecurringRequest {
  echoData: string | null;
  traceId: string;
  amountCents: number;
  customerId: string | null;
  digitalWalletId: string | null;
  additionalData: string | null;
  delaySettlement: boolean;
  accountVerification: boolean | null;
  basket: BasketLine[];
  purchaseCents: number;
  callbackUrl: string | null;
  notificationUrl: string | null;
  styling: { logoUrl: string | null; bannerUrl: string | null; theme: 'default' | 'dark' | 'mini_app' };
  electronicReceipt: { method: 0 | 1; address: string } | null;
  communication: { msisdn: string | null; message: string | null } | null;
  recurring: MandateTerms;
}

/** Numbers of seed 001 (1, 6, 11) and the OpenAPI's names; 2 and 7 are our numbers for the TEP categories. */
const CATEGORY_NUMBERS: Record<number, number> = { 1: 1, 2: 2, 6: 6, 7: 7, 11: 11 };
const CATEGORY_NAMES: Record<string, number> = { FixedPeriodMerchant: 1, FixedPeriodTEP: 2, OngoingMerchant: 6, OngoingTEP: 7, OngoingVariableMerchant: 11 };
export const CATEGORY_LABELS: Record<Category, string> = { 1: 'Instalments for a fixed period', 6: 'Ongoing fixed regular payments', 11: 'Ongoing variable payments' };

const FREQUENCY_NAMES: Record<string, Frequency> = { AdHoc: 1, Daily: 2, BiWeekly: 3, Weekly: 4, Fortnightly: 5, Monthly: 6, Quarterly: 7, TwiceAnnually: 8, Annually: 9 };
const FREQUENCY_NUMBERS = Object.fromEntries(Object.values(FREQUENCY_NAMES).map((n) => [n, n])) as Record<number, Frequency>;
export const FREQUENCY_LABELS = Object.fromEntries(Object.entries(FREQUENCY_NAMES).map(([k, v]) => [v, k])) as Record<Frequency, string>;

/** regularPaymentDay's range per frequency; null: the frequency has no payment day (the field is ignored). */
const DAY_RANGE: Record<Frequency, [number, number] | null> = {
  1: null,
  2: null,
  // Bi-weekly: the first of two days a week, the second two days later, so it must fall on day 1–5.
  3: [1, 5],
  4: [1, 7],
  5: [1, 7],
  6: [1, 31],
  7: [1, 31],
  8: [1, 31],
  9: [1, 366],
};

/** `YYYY-MM-DD` (seed 001) or an ISO date-time (the OpenAPI's `format: date-time`): its calendar date. */
export function dateOf(o: Json, name: string, label: string): string | undefined {
  const v = field(o, name);
  if (v === undefined) return undefined;
  const m = typeof v === 'string' ? /^([0-9]{4})-([0-9]{2})-([0-9]{2})(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,7})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.exec(v.trim()) : null;
  if (!m) return refuse(`${label} must be an ISO 8601 date (YYYY-MM-DD)`);
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date) return refuse(`${label} is not a calendar date`);
  return date;
}

/** Today in South Africa (UTC+2, no daylight saving): what "in the past" is measured against. */
export const todayInSouthAfrica = (now: Date): string => new Date(now.getTime() + 2 * 3_600_000).toISOString().slice(0, 10);

function basketOf(body: Json): BasketLine[] {
  const raw = field(body, 'basket');
  if (raw === undefined) return refuse('basket is required');
  if (!Array.isArray(raw) || raw.length === 0) return refuse('basket must be a non-empty array of lines');
  if (raw.length > 999) return refuse('basket has more than 999 lines');
  return raw.map((line, i): BasketLine => {
    const at = `basket[${i}]`;
    if (!isObject(line)) return refuse(`${at} must be an object`);
    const lineNumber = reqInt(line, 'lineNumber', `${at}.lineNumber`);
    // "A sequential number specifying the order": 1, 2, 3 … in the order given.
    if (lineNumber !== i + 1) return refuse(`${at}.lineNumber must be ${i + 1} (sequential from 1)`);
    const quantity = reqInt(line, 'quantity', `${at}.quantity`);
    if (quantity < 1) return refuse(`${at}.quantity must be at least 1`);
    const amountExVAT = reqInt(line, 'amountExVAT', `${at}.amountExVAT`);
    const amountVAT = reqInt(line, 'amountVAT', `${at}.amountVAT`);
    if (amountExVAT < 0) return refuse(`${at}.amountExVAT must not be negative`);
    if (amountVAT < 0) return refuse(`${at}.amountVAT must not be negative`);
    return {
      lineNumber,
      id: reqString(line, 'Id', 99, 1, `${at}.Id`),
      barcode: reqString(line, 'barcode', 99, 1, `${at}.barcode`),
      quantity,
      description: reqString(line, 'description', 99, 1, `${at}.description`),
      amountExVAT,
      amountVAT,
    };
  });
}

function recurringOf(body: Json, today: string): MandateTerms {
  const r = optObject(body, 'recurring');
  if (!r) return refuse('recurring is required');
  const category = optEnum(r, 'category', 'recurring.category', CATEGORY_NUMBERS, CATEGORY_NAMES);
  if (category === undefined) return refuse('recurring.category is required');
  if (category === 2 || category === 7) return refuse(`recurring.category ${category === 2 ? 'FixedPeriodTEP' : 'OngoingTEP'} is not enabled for this merchant`, 'D1');
  const frequency = optEnum(r, 'frequency', 'recurring.frequency', FREQUENCY_NUMBERS, FREQUENCY_NAMES);
  if (frequency === undefined) return refuse('recurring.frequency is required');

  const range = DAY_RANGE[frequency];
  const day = optInt(r, 'regularPaymentDay', 'recurring.regularPaymentDay');
  if (day !== undefined && range && (day < range[0] || day > range[1])) return refuse(`recurring.regularPaymentDay must be ${range[0]}-${range[1]} for ${FREQUENCY_LABELS[frequency]}`);
  if (category === 6 && range && day === undefined) return refuse('recurring.regularPaymentDay is required for ongoing fixed payments');

  const first = dateOf(r, 'firstPaymentDate', 'recurring.firstPaymentDate');
  if (category === 6 && first === undefined) return refuse('recurring.firstPaymentDate is required for ongoing fixed payments');
  if (first !== undefined && first < today) return refuse('recurring.firstPaymentDate must not be in the past');
  const last = dateOf(r, 'lastPaymentDate', 'recurring.lastPaymentDate');
  if (last !== undefined && last < (first ?? today)) return refuse(`recurring.lastPaymentDate must not be before ${first ? 'firstPaymentDate' : 'today'}`);

  const installments = optInt(r, 'numberOfInstallments', 'recurring.numberOfInstallments');
  if (installments !== undefined && (installments < 1 || installments > 999)) return refuse('recurring.numberOfInstallments must be 1-999');
  if (category === 1 && installments === undefined && last === undefined) return refuse('recurring.numberOfInstallments or lastPaymentDate is required for a fixed period');

  const amount = optInt(r, 'amount', 'recurring.amount');
  if (amount !== undefined && amount <= 0) return refuse('recurring.amount must be a positive number of cents');
  if (category === 11 && amount === undefined) return refuse('recurring.amount is required for ongoing variable payments');
  const limit = optInt(r, 'amountLimit', 'recurring.amountLimit');
  if (limit !== undefined && limit <= 0) return refuse('recurring.amountLimit must be a positive number of cents');
  if (limit !== undefined && amount !== undefined && amount > limit) return refuse('recurring.amount must not exceed recurring.amountLimit');

  // Named without "recurring.": the message must fit in 99 characters.
  const validity = optInt(r, 'paymentInstrumentMinimumValidityPeriod') ?? 0;
  if (validity < 0 || validity > 600) return refuse('paymentInstrumentMinimumValidityPeriod must be 0-600 months');

  return {
    category: category as Category,
    frequency,
    regularPaymentDay: range ? (day ?? null) : null,
    amountCents: amount ?? null,
    amountLimitCents: limit ?? null,
    firstPaymentDate: first ?? null,
    lastPaymentDate: last ?? null,
    numberOfInstallments: installments ?? null,
    validityMonths: validity,
  };
}

const THEMES: Record<number, 'default' | 'dark' | 'mini_app'> = { 0: 'default', 1: 'dark', 2: 'mini_app' };

export function parseRecurring(body: unknown, today: string): RecurringRequest {
  if (!isObject(body)) return refuse('the body must be a JSON object');
  const echoData = optString(body, 'echoData', 9999) ?? null;
  const traceId = traceIdOf(body);
  const amount = reqInt(body, 'amount');
  if (amount <= 0) refuse('amount must be a positive number of cents');

  const customerId = optString(body, 'customerId', 255, 1) ?? null;
  const wallet = optString(body, 'digitalWalletId', 36) ?? null;
  if (wallet !== null && !UUID.test(wallet)) refuse('digitalWalletId must be a 36-character UUID');
  if (customerId === null && wallet === null) refuse('customerId or digitalWalletId is required');
  const additionalData = optString(body, 'additionalData', 9999) ?? null;
  const delaySettlement = optBool(body, ['delaySettlement', 'delayedSettlement'], 'delaySettlement');
  if (delaySettlement === undefined) refuse('delaySettlement is required');
  const accountVerification = optBool(body, ['accountVerification'], 'accountVerification') ?? null;

  const basket = basketOf(body);
  const purchaseCents = basket.reduce((sum, l) => sum + l.quantity * (l.amountExVAT + l.amountVAT), 0);
  if (amount > purchaseCents) refuse(`amount ${amount} exceeds the basket's purchase amount ${purchaseCents}`);

  const n = optObject(body, 'notifications') ?? {};
  const callbackUrl = optUrl(n, 'callbackUrl', 'notifications.callbackUrl') ?? null;
  const notificationUrl = optUrl(n, 'notificationUrl', 'notifications.notificationUrl') ?? null;

  const s = optObject(body, 'styling') ?? {};
  const logoUrl = optUrl(s, 'logoUrl', 'styling.logoUrl') ?? null;
  const bannerUrl = optUrl(s, 'bannerUrl', 'styling.bannerUrl') ?? null;
  // "If the theme referenced by this field is missing, the default theme will be used": any number goes.
  const rawTheme = field(s, 'theme');
  let theme: 'default' | 'dark' | 'mini_app' = 'default';
  if (typeof rawTheme === 'number' && Number.isInteger(rawTheme)) theme = THEMES[rawTheme] ?? 'default';
  else if (rawTheme !== undefined) theme = THEMES[optEnum(s, 'theme', 'styling.theme', { 0: 0, 1: 1, 2: 2 }, { LightTheme: 0, DarkTheme: 1, MiniApp: 2 })!] ?? 'default';

  const electronicReceipt = electronicReceiptOf(body) ?? null;

  const c = optObject(body, 'communication');
  let communication: RecurringRequest['communication'] = null;
  if (c) {
    const raw = field(c, 'msisdn');
    const msisdn = raw === undefined ? null : typeof raw === 'number' || typeof raw === 'string' ? String(raw) : null;
    if (raw !== undefined && (msisdn === null || !/^[0-9]{11}$/.test(msisdn))) refuse('communication.msisdn must be 11 digits with the country code, no +');
    const message = optString(c, 'message', 99, 0, 'communication.message') ?? null;
    if (message !== null && !message.includes('{PaymentUrl}')) refuse('communication.message must contain {PaymentUrl}');
    communication = { msisdn, message };
  }

  return {
    echoData, traceId, amountCents: amount, customerId, digitalWalletId: wallet, additionalData, delaySettlement: delaySettlement!, accountVerification,
    basket, purchaseCents, callbackUrl, notificationUrl, styling: { logoUrl, bannerUrl, theme }, electronicReceipt, communication,
    recurring: recurringOf(body, today),
  };
}
