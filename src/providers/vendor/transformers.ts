import type { Money } from '../contract.ts';
import { isObject, jsonObject } from '../kit/http.ts';
import type { MeterInfo, VendAdviceInput, VendPurchaseInput, VendToken } from '../vendor-contract.ts';

/**
 * The vendor's wire messages (Electrum prepaid utility v3, seed 003) and pure mappings to ours. Token digits
 * leave this file only in `VendToken`; `rawOf` keeps units, receipt numbers and at most a token's last 4.
 */

/** ISO 4217 numeric code of the rand. */
export const ZAR = '710';

/**
 * Who payrail is in every message (**connector choice**, fixed): one terminal, one merchant, MCC 4900
 * (utilities). The vendor assigns real values at onboarding; these are payrail's until then.
 */
export const ORIGINATOR = {
  institution: { id: '270001', name: 'payrail' },
  terminalId: 'PAYRAIL1',
  merchant: { merchantType: '4900', merchantId: 'PAYRAIL00000001', merchantName: { name: 'PAYRAIL', city: 'CAPE TOWN', region: 'WC', country: 'ZA' } },
} as const;
export const CLIENT = { id: '270001', name: 'payrail' } as const;

const thirdParty = (id: string) => [{ institutionId: CLIENT.id, transactionIdentifier: id }];

/** The fields of every Transaction. */
export const transaction = (id: string, time: Date) => ({ id, time: time.toISOString(), originator: ORIGINATOR, client: CLIENT, thirdPartyIdentifiers: thirdParty(id) });

/** A PurchaseRequest: the meter and the amount in cents, currency "710". The same body is sent on a retry. */
export const purchaseRequest = (input: VendPurchaseInput, time: Date) => ({
  ...transaction(input.requestId, time),
  meter: { meterId: input.meterId },
  purchaseAmount: { amount: input.amount.amountCents, currency: ZAR },
  utilityType: 'ELECTRICITY',
});

/** A ConfirmationAdvice or ReversalAdvice. A reversal without a reason is a TIMEOUT (**connector choice**). */
export const adviceRequest = (input: VendAdviceInput, kind: 'confirmation' | 'reversal', time: Date) => ({
  id: input.adviceId,
  requestId: input.requestId,
  time: time.toISOString(),
  thirdPartyIdentifiers: thirdParty(input.requestId),
  ...(kind === 'reversal' ? { reversalReason: input.reason ?? 'TIMEOUT' } : {}),
});

export const meterLookupRequest = (requestId: string, meterId: string, time: Date) => ({ ...transaction(requestId, time), meter: { meterId } });

export const reprintRequest = (requestId: string, meterId: string, originalRef: string | undefined, time: Date) => ({
  ...transaction(requestId, time),
  meter: { meterId },
  ...(originalRef ? { originalRef } : {}),
});

/** An ErrorDetail's type and message; for a body that is not one, `HTTP_<status>`. */
export function failureOf(status: number, text: string): { code: string; message: string } {
  const body = jsonObject(text);
  const type = body && typeof body.errorType === 'string' && /^[A-Z_]{1,40}$/.test(body.errorType) ? body.errorType : null;
  const message = body ? [body.errorMessage, body.detailMessage].filter((m): m is string => typeof m === 'string' && m.length > 0).join(': ') : '';
  return { code: type ?? `HTTP_${status}`, message: (message || `the vendor answered HTTP ${status}`).slice(0, 300) };
}

const moneyOf = (v: unknown): Money | null =>
  isObject(v) && typeof v.amount === 'number' && Number.isSafeInteger(v.amount) && v.amount >= 0 && v.currency === ZAR ? { amountCents: v.amount, currency: 'ZAR' } : null;

/**
 * The tokens of a PurchaseResponse, or null when the answer cannot be read as one (not JSON, a token that is
 * not 20 digits): then what was issued is not known and the caller retries. No `tokens` at all is no tokens
 * (a purchase the utility took whole for debt).
 */
export function tokensOf(body: Record<string, unknown>): VendToken[] | null {
  if (body.tokens === undefined || body.tokens === null) return [];
  if (!Array.isArray(body.tokens)) return null;
  const tokens: VendToken[] = [];
  for (const t of body.tokens) {
    if (!isObject(t) || typeof t.token !== 'string' || !/^[0-9]{20}$/.test(t.token)) return null;
    tokens.push({
      tokenType: typeof t.tokenType === 'string' ? t.tokenType : 'STD',
      token: t.token,
      units: typeof t.units === 'number' && Number.isFinite(t.units) ? String(t.units) : typeof t.units === 'string' ? t.units : null,
      amount: moneyOf(t.amount),
      receiptNumber: typeof t.receiptNum === 'string' ? t.receiptNum : null,
    });
  }
  return tokens;
}

/** The purchase total the vendor states, when it states one in rand. */
export const purchaseTotalOf = (body: Record<string, unknown>): Money | null => moneyOf(body.purchaseTotal);

/** The vendor's answer for the payment record: never the token digits (the last 4 at most). */
export function rawOf(status: number, body: Record<string, unknown> | null): Record<string, unknown> {
  if (!body) return { http_status: status };
  if (typeof body.errorType === 'string') {
    return { http_status: status, error_type: body.errorType, error_message: body.errorMessage ?? null, detail_message: typeof body.detailMessage === 'string' ? body.detailMessage.slice(0, 300) : null };
  }
  const tokens = Array.isArray(body.tokens) ? body.tokens.filter(isObject) : [];
  return {
    http_status: status,
    id: typeof body.id === 'string' ? body.id : null,
    tokens: tokens.map((t) => ({
      token_type: t.tokenType ?? null,
      units: t.units ?? null,
      receipt_num: t.receiptNum ?? null,
      last4: typeof t.token === 'string' ? t.token.slice(-4) : null,
    })),
    purchase_total: isObject(body.purchaseTotal) ? body.purchaseTotal.amount ?? null : null,
    tax_total: isObject(body.taxTotal) ? body.taxTotal.amount ?? null : null,
    vat_invoice_number: typeof body.vatInvoiceNumber === 'string' ? body.vatInvoiceNumber : null,
  };
}

/** Whose meter it is, from a MeterLookupResponse. */
export function meterInfoOf(meterId: string, body: Record<string, unknown>): MeterInfo {
  const customer = isObject(body.customer) ? body.customer : {};
  const utility = isObject(body.utility) ? body.utility : {};
  const name = [customer.firstName, customer.lastName].filter((s): s is string => typeof s === 'string' && s.trim() !== '').join(' ');
  const meter = isObject(body.meter) && typeof body.meter.meterId === 'string' ? body.meter.meterId : meterId;
  return {
    meterId: meter,
    customerName: name || null,
    address: typeof customer.address === 'string' ? customer.address : null,
    utility: typeof utility.name === 'string' ? utility.name : null,
  };
}
