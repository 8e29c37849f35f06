import type { CardOutcome } from '../kit/cards.ts';
import type { Code } from './merchant.ts';

/**
 * What charging a card does, by its test outcome (kit cards.ts, plus VodaPay's partial-approval card). A
 * tokenised card keeps its outcome, so SubmitRecurring on its payment token behaves like the card.
 */
export type VodaPayOutcome = CardOutcome | 'partial';

/** The VodaPay-only test cards. */
export const VODAPAY_CARDS: Readonly<Record<string, VodaPayOutcome>> = {
  // Approved for half the amount: code 10, the purchase not fully paid.
  '4000000000000010': 'partial',
};

export interface ChargeResult {
  code: Code;
  /** The ledger row's status. */
  ledger: 'approved' | 'declined' | 'unavailable';
  /** Cents actually taken from the card. */
  approvedCents: number;
}

/**
 * The result of charging `amountCents` to a card of `outcome`. `unavailableBefore`: this card (this page, this
 * token) already had its one 91, so it now approves.
 */
export function chargeResult(outcome: string, amountCents: number, unavailableBefore: boolean): ChargeResult {
  switch (outcome) {
    case 'decline':
      return { code: '05', ledger: 'declined', approvedCents: 0 };
    case 'insufficient_funds':
      return { code: '51', ledger: 'declined', approvedCents: 0 };
    case 'unavailable_once':
      return unavailableBefore ? { code: '00', ledger: 'approved', approvedCents: amountCents } : { code: '91', ledger: 'unavailable', approvedCents: 0 };
    case 'partial':
      return { code: '10', ledger: 'approved', approvedCents: Math.max(1, Math.floor(amountCents / 2)) };
    default:
      // approve, lost_response (only the API answer is lost), cancel_then_success (a Peach quirk): approved.
      return { code: '00', ledger: 'approved', approvedCents: amountCents };
  }
}

/** Months from a date to a card's expiry month (a card is valid to the end of it), as seed 001 counts validity. */
export function monthsOfValidity(fromDate: string, expiryMonth: number, expiryYear: number): number {
  const [y, m] = fromDate.split('-').map(Number) as [number, number];
  return expiryYear * 12 + expiryMonth - (y * 12 + m);
}

/** A card has expired once its expiry month is over (by the sandbox clock, UTC). */
export const cardExpired = (expiryMonth: number, expiryYear: number, now: Date): boolean => expiryYear * 12 + expiryMonth < now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
