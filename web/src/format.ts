/** Display formats: money "R379.00" / "R1 000.00", dates "11 Dec 2026". */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export const round2 = (x: number): number => Math.round((x + Number.EPSILON) * 100) / 100;

export function money(rand: number): string {
  const cents = Math.round(rand * 100);
  const sign = cents < 0 ? '−' : '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return `${sign}R${whole}.${String(abs % 100).padStart(2, '0')}`;
}

/** 'YYYY-MM-DD' → '11 Dec 2026' (a calendar date: no time zone involved). */
export function date(iso: string): string {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
  if (!y || !m || !d) return iso;
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

/** A timestamp in the viewer's time zone: '11 Dec 2026, 14:05'. */
export function dateTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const hh = String(t.getHours()).padStart(2, '0');
  const mm = String(t.getMinutes()).padStart(2, '0');
  return `${t.getDate()} ${MONTHS[t.getMonth()]} ${t.getFullYear()}, ${hh}:${mm}`;
}

/** The operator's calendar is South Africa's: billing dates, due dates and runs go by it (README, Billing runs). */
const OPERATOR_TIME_ZONE = 'Africa/Johannesburg';

/** An instant's 'YYYY-MM-DD' on the operator's calendar (null if this browser cannot tell). */
function operatorDay(t: Date): string | null {
  try {
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: OPERATOR_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(t);
    const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    return `${part('year')}-${part('month')}-${part('day')}`;
  } catch {
    return null;
  }
}

/** A timestamp's day on the operator's calendar, wherever the viewer is: '11 Dec 2026'. */
export function operatorDate(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return date(iso);
  return date(operatorDay(t) ?? iso);
}

/** Today as 'YYYY-MM-DD' on the operator's calendar: a billing run may be for a date up to this one. */
export function operatorToday(): string {
  return operatorDay(new Date()) ?? today();
}

/** Today as 'YYYY-MM-DD' in the viewer's time zone. */
export function today(): string {
  const t = new Date();
  return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
}

export function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  const t = new Date(Date.UTC(y!, m! - 1, d! + days));
  return t.toISOString().slice(0, 10);
}

/** Where the paid period ends after buying `days` more (as the server's extendPeriod: a lapsed period restarts today). */
export function periodEndAfter(currentEnd: string | null, days: number): string {
  const now = today();
  const start = currentEnd && currentEnd > now ? currentEnd : now;
  return addDays(start, days);
}

export const BILLING_STATUS: Record<string, string> = { PaidUp: 'Paid up', InArrears: 'In arrears', Suspended: 'Suspended' };

export const SERVICE_STATUS: Record<string, string> = {
  PendingIspApplication: 'Awaiting activation',
  Active: 'Active',
  Suspended: 'Suspended',
  Cancelled: 'Cancelled',
};

export const SERVICE_TYPE: Record<string, string> = { Recurring: 'Monthly service', DayBundle: 'Day bundles', HybridDayBundle: 'Day bundles with auto-recharge', PrepaidUtility: 'Prepaid electricity' };

export const ROLE: Record<string, string> = { customer: 'Customer', integrator: 'Integrator', admin: 'Admin' };

/** purchase_status_id 1–8, as a customer reads them. */
export const PURCHASE_STATUS: Record<number, string> = {
  1: 'Scheduled',
  2: 'Payment in progress',
  3: 'Unpaid',
  4: 'Paid',
  5: 'Failed',
  6: 'Quote',
  7: 'Cancelled',
  8: 'Expired',
};

export const RUN_STATUS: Record<string, string> = { running: 'Running', completed: 'Completed' };

/** A debit order (a bank account) waits for the bank: days, not seconds. */
export const isDebitOrder = (p: { medium_type?: string | null }): boolean => p.medium_type === 'BankAccount';
export const DEBIT_ORDER_SUBMITTED = 'Debit order submitted — clears in 2–3 business days';
/** A debit order the bank returned after it cleared, in the customer's words. */
export const returnedNote = (p: { amount: number; returned?: { reason: string } | null }): string =>
  `Debit order returned unpaid by the bank${p.returned?.reason ? ` (${p.returned.reason.replace(/^Returned unpaid:\s*/i, '')})` : ''}: ${money(p.amount)} is owed again.`;

export const PAYMENT_STATUS: Record<string, string> = { pending: 'Pending', succeeded: 'Succeeded', failed: 'Failed', unknown: 'Being checked' };

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Units of electricity as the vendor gives them (a decimal string, shown as it is): "45.6 kWh". */
export const kwh = (units: string | null): string => (units ? `${units} kWh` : '—');

/** "1234-5678-9012-3456-7890" → "12345678901234567890": what a meter's keypad or a vending app takes. */
export const tokenDigits = (token: string): string => token.replace(/[^0-9]/g, '');
