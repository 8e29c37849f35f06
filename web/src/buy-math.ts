import { round2 } from './format.ts';
import type { BuyOption, VariableAmount } from './types.ts';

/**
 * Buy-now lines as seed 000 sends them. The server prices every line itself and refuses one whose
 * figures differ (money to the cent, unit prices within a millionth), so these mirror its arithmetic.
 */
export interface BuyLine {
  product_price_id: string;
  purchase_line_type_id: number;
  description: string;
  quantity: number;
  total_amount: number;
  amount_per_quantity: number;
  amount_per_quantity_incl: number;
  net_amount_excl: number;
  tax_rate: number;
  tax_amount: number;
  period_contribution_per_quantity: number;
}

/** `qty` units of a day-bundle option (the option is priced per unit). */
export function bundleLine(o: BuyOption, qty: number): BuyLine {
  return {
    product_price_id: o.product_price_id,
    purchase_line_type_id: o.purchase_line_type_id,
    description: o.description,
    quantity: qty,
    total_amount: round2(qty * o.total_amount),
    amount_per_quantity: o.amount_per_quantity,
    amount_per_quantity_incl: o.amount_per_quantity_incl,
    net_amount_excl: qty * o.net_amount_excl,
    tax_rate: o.tax_rate,
    tax_amount: qty * o.tax_amount,
    period_contribution_per_quantity: o.period_contribution_per_quantity,
  };
}

/** Whole days an amount buys; the epsilon keeps R379.00 at 30 days despite 379 / (379/30) = 29.999…. */
export const daysFor = (amount: number, va: VariableAmount): number => Math.floor(amount / va.amount_per_quantity_incl + 1e-9);

/** The VAT inside an amount spent on days: what is left after the VAT-exclusive price of the days. */
export const vatFor = (amount: number, va: VariableAmount): number => round2(amount - daysFor(amount, va) * va.amount_per_quantity);

/** Recurring months bought by amount (seed 000's payload). */
export function amountLine(va: VariableAmount, amount: number): BuyLine {
  const days = daysFor(amount, va);
  return {
    product_price_id: va.product_price_id,
    purchase_line_type_id: va.purchase_line_type_id,
    description: va.description,
    quantity: days,
    total_amount: amount,
    amount_per_quantity: va.amount_per_quantity,
    amount_per_quantity_incl: va.amount_per_quantity_incl,
    net_amount_excl: days * va.amount_per_quantity,
    tax_rate: va.tax_rate,
    tax_amount: amount - days * va.amount_per_quantity,
    period_contribution_per_quantity: va.period_contribution_per_quantity,
  };
}

/** "1 000", "R1000.50", "1000,5" → rand; anything else (or more than two decimals) → null. */
export function parseRand(text: string): number | null {
  const t = text.replace(/[\s\u00a0]/g, '').replace(/^R/i, '');
  const m = /^(\d+)(?:[.,](\d{1,2}))?$/.exec(t);
  if (!m) return null;
  return Number(`${m[1]}.${(m[2] ?? '0').padEnd(2, '0')}`);
}

/** A whole number of units from a text field, or null. */
export function parseCount(text: string): number | null {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : null;
}
