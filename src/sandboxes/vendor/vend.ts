import { randomBytes, randomInt } from 'node:crypto';
import { customerOf, MAX_AMOUNT_CENTS, METER_DATA, meterOutcome, MIN_AMOUNT_CENTS, TARIFF, UTILITY, ZAR } from './merchant.ts';
import { refusal, type Answer, type RequestType } from './http.ts';
import type { PurchaseMessage, TransactionBase } from './messages.ts';

/**
 * What the vendor decides for a well-formed purchase (pure but for random token digits): refused for the
 * meter or the amount, or a PurchaseResponse with its STS token. Nothing is stored here.
 */

/** A 20-digit STS token: a 66-bit number written in decimal (leading zeros kept). */
export function stsToken(): string {
  const bits = BigInt(`0x${randomBytes(9).toString('hex')}`) & ((1n << 66n) - 1n);
  return bits.toString().padStart(20, '0');
}

const digits = (n: number): string => Array.from({ length: n }, () => randomInt(10)).join('');

/** The tariff (merchant.ts): VAT included in the amount, flat rate per kWh, units to 0.1 kWh rounded down. */
export function tariff(amountCents: number): { taxCents: number; exVatCents: number; units: number; rate: number } {
  const taxCents = Math.round((amountCents * TARIFF.vatPercent) / (100 + TARIFF.vatPercent));
  const exVatCents = amountCents - taxCents;
  const units = Math.floor((exVatCents * 10) / TARIFF.centsPerKwhExVat) / 10;
  return { taxCents, exVatCents, units, rate: TARIFF.centsPerKwhExVat / 100 };
}

/** The base fields a response copies from its request (as the reference test server does), with the vendor's time. */
export function baseOf(req: TransactionBase, now: Date): Record<string, unknown> {
  return {
    id: req.id,
    time: now.toISOString(),
    originator: req.originator,
    client: req.client,
    ...(req.settlementEntity ? { settlementEntity: req.settlementEntity } : {}),
    ...(req.receiver ? { receiver: req.receiver } : {}),
    thirdPartyIdentifiers: [...req.thirdPartyIdentifiers, { institutionId: UTILITY.clientId, transactionIdentifier: `SBX${digits(12)}` }],
  };
}

export const meterOf = (meterId: string) => ({ meterId, ...METER_DATA });
export const customerFor = (meterId: string) => customerOf(meterId);

/** The refusal a meter or amount earns, or null when the purchase goes ahead. */
export function refusalOf(req: PurchaseMessage, requestType: RequestType): Answer | null {
  const outcome = meterOutcome(req.meter.meterId);
  if (outcome === 'unknown') return refusal('UNKNOWN_METER_ID', requestType, req.id, `meter ${req.meter.meterId} is not known to any utility`);
  const amount = req.purchaseAmount.amount;
  if (amount === 0) return refusal('NO_FREE_UNITS_DUE', requestType, req.id, 'no free basic electricity is due on this meter');
  if (amount < MIN_AMOUNT_CENTS) return refusal('AMOUNT_TOO_LOW', requestType, req.id, `the least a purchase may be is ${MIN_AMOUNT_CENTS} cents`);
  if (amount > MAX_AMOUNT_CENTS) return refusal('AMOUNT_TOO_HIGH', requestType, req.id, `the most a purchase may be is ${MAX_AMOUNT_CENTS} cents`);
  if (outcome === 'unavailable') return refusal('UPSTREAM_UNAVAILABLE', requestType, req.id, 'the utility’s vending system is unavailable');
  return null;
}

/** A PurchaseResponse with one STD token (or, for a trial, a token of zeros that loads nowhere). */
export function purchaseResponse(req: PurchaseMessage, now: Date, trial = false): Record<string, unknown> {
  const amount = req.purchaseAmount.amount;
  const t = tariff(amount);
  const money = (cents: number) => ({ amount: cents, currency: ZAR });
  const receiptNum = trial ? null : digits(12);
  return {
    ...baseOf(req, now),
    meter: { ...meterOf(req.meter.meterId) },
    customer: customerFor(req.meter.meterId),
    utility: { ...UTILITY },
    utilityType: req.utilityType ?? 'ELECTRICITY',
    purchaseTotal: money(amount),
    taxTotal: money(t.taxCents),
    amounts: { requestAmount: money(amount), approvedAmount: money(amount) },
    tokens: [
      {
        tokenType: 'STD',
        units: t.units,
        amount: { amount, currency: ZAR, tax: t.taxCents, taxType: 'VAT', taxRate: TARIFF.vatPercent },
        receiptNum,
        token: trial ? '0'.repeat(20) : stsToken(),
        tariffCalc: [{ units: t.units, rate: t.rate }],
      },
    ],
    debtRecoveryCharges: [],
    serviceCharges: [],
    vatInvoiceNumber: trial ? null : `VI${digits(10)}`,
    ...(req.msisdn ? { msisdn: req.msisdn } : {}),
  };
}

/** What the ledger keeps of a response: units, receipt, invoice — never the token digits. */
export function ledgerDetails(response: Record<string, unknown>, meterId: string): Record<string, unknown> {
  const tokens = Array.isArray(response.tokens) ? (response.tokens as Record<string, unknown>[]) : [];
  return {
    meter_id: meterId,
    units: tokens.map((t) => t.units),
    receipt_numbers: tokens.map((t) => t.receiptNum),
    token_count: tokens.length,
    vat_invoice_number: response.vatInvoiceNumber ?? null,
  };
}
