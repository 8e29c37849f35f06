/**
 * The prepaid-utility vendor sandbox's published facts (README.md): its merchant credentials, amount limits,
 * tariff, utility, and what each test meter does. Electrum publishes no test credentials, so these are the
 * sandbox's own; they grant nothing anywhere else.
 */

/** The provider name in the kit tables (`sandbox.transactions.provider`) and the connector's id. */
export const PROVIDER = 'Vendor';

/** HTTP Basic credentials of the sandbox merchant. Anything else → 401. */
export const VENDOR_SANDBOX_CREDENTIALS = { username: 'payrail-sandbox', password: 'vendor-sandbox-password' } as const;

/** ISO 4217 numeric code of the rand: the only currency the vendor takes. */
export const ZAR = '710';

/** Purchase limits in cents: R10 to R5 000 (AMOUNT_TOO_LOW / AMOUNT_TOO_HIGH). 0 asks for a free (BSST) token. */
export const MIN_AMOUNT_CENTS = 1_000;
export const MAX_AMOUNT_CENTS = 500_000;

/**
 * The tariff: one flat block, R2.50 per kWh excluding VAT (R2.875 including). VAT is 15% and included in the
 * amount paid: tax = round(amount × 15 / 115); units = (amount − tax) / 2.50, rounded down to 0.1 kWh.
 * No service or debt recovery charges.
 */
export const TARIFF = { centsPerKwhExVat: 250, vatPercent: 15 } as const;

export const UTILITY = {
  name: 'Sandbox Municipal Electricity',
  address: '1 Grid Road, Johannesburg, 2001',
  vatRegNum: '4000123456',
  clientId: 'SBX-ELEC',
  message: 'Sandbox tokens load on no real meter.',
} as const;

/** STS meter data the sandbox reports for every meter it knows. */
export const METER_DATA = { serviceType: 'ELEC', supplyGroupCode: '600123', keyRevisionNum: '1', tariffIndex: '01', tokenTechCode: '02', algorithmCode: '07' } as const;

/**
 * What a well-formed meter number does (SPEC §12):
 * - `vend`: the token is issued and answered (01234567890 and any meter not listed below).
 * - `lost`: ends 0408 — the token is issued, the first answer is lost; a `/retry` returns the same token.
 * - `unavailable`: ends 0503 — refused, 503 UPSTREAM_UNAVAILABLE.
 * - `unknown`: ends 0999, or empty — 400 UNKNOWN_METER_ID (lookups and purchases alike).
 */
export type MeterOutcome = 'vend' | 'lost' | 'unavailable' | 'unknown';

export function meterOutcome(meterId: string): MeterOutcome {
  if (meterId === '' || meterId.endsWith('0999')) return 'unknown';
  if (meterId.endsWith('0408')) return 'lost';
  if (meterId.endsWith('0503')) return 'unavailable';
  return 'vend';
}

/** The customer a meter belongs to: the documented test meter has a name; others a generic one. */
export function customerOf(meterId: string): { firstName: string; lastName: string; address: string } {
  if (meterId === '01234567890') return { firstName: 'Thandi', lastName: 'Mokoena', address: '12 Long Street, Cape Town, 8001' };
  return { firstName: 'Sandbox', lastName: `Customer ${meterId.slice(-4)}`, address: `${meterId.length % 90 + 1} Meter Lane, Johannesburg, 2001` };
}
