import type { PaymentStatus, PurchaseStatusId } from './enums.ts';
import { PurchaseStatus as P } from './enums.ts';

/**
 * Payment attempts (Kill Bill's lesson): pending and unknown are states, not guesses. Only a definitive
 * provider answer moves to succeeded or failed, and nothing ever leaves those.
 */
const paymentTransitions = {
  pending: ['succeeded', 'failed', 'unknown'],
  unknown: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
} as const satisfies Record<PaymentStatus, readonly PaymentStatus[]>;

export const isTerminalPayment = (s: PaymentStatus): boolean => paymentTransitions[s].length === 0;

export function canMovePayment(from: PaymentStatus, to: PaymentStatus): boolean {
  return (paymentTransitions[from] as readonly PaymentStatus[]).includes(to);
}

/** Statuses that block another attempt on the same purchase (enforced again by a unique index). */
export const LIVE_PAYMENT_STATUSES = ['pending', 'unknown', 'succeeded'] as const satisfies readonly PaymentStatus[];

/**
 * Purchases. A failed collection attempt returns a purchase to where it was payable from (Unpaid, or Quote
 * for a buy-now purchase); Cancelled and Expired are final, and so is Paid but for one move: a payment
 * returned after it succeeded (SPEC §11) makes its purchase owed again (Unpaid).
 */
const purchaseTransitions: Record<PurchaseStatusId, readonly PurchaseStatusId[]> = {
  [P.Scheduled]: [P.Unpaid, P.Submitted, P.Cancelled],
  [P.Submitted]: [P.Paid, P.Unpaid, P.Quote, P.Failed],
  [P.Unpaid]: [P.Submitted, P.Paid, P.Cancelled, P.Failed],
  // A paid purchase stays paid, unless the money comes back (a returned debit order): owed again; or what
  // it bought cannot be delivered (a declined vend): cancelled, and its payment refunded.
  [P.Paid]: [P.Unpaid, P.Cancelled],
  [P.Failed]: [P.Unpaid, P.Cancelled, P.Paid],
  [P.Quote]: [P.Submitted, P.Paid, P.Expired, P.Cancelled],
  [P.Cancelled]: [],
  [P.Expired]: [],
};

export function canMovePurchase(from: PurchaseStatusId, to: PurchaseStatusId): boolean {
  return purchaseTransitions[from].includes(to);
}

/** A purchase a customer can be asked to pay right now. */
export const PAYABLE_PURCHASE_STATUSES: readonly PurchaseStatusId[] = [P.Unpaid, P.Quote, P.Scheduled];

/**
 * The moves a collection makes to a purchase, named, for the statements that make them (no bare status
 * numbers in SQL). Each is a move `canMovePurchase` allows.
 */
export const PurchaseMoves = {
  /** An attempt starts: a payable purchase (Scheduled, Unpaid, Quote) becomes Submitted. */
  submit: { from: [P.Scheduled, P.Unpaid, P.Quote], to: P.Submitted },
  /** An attempt succeeded: the purchase waiting on it is Paid. */
  pay: { from: [P.Submitted], to: P.Paid },
  /** An attempt failed: the purchase waiting on it is payable again (Unpaid, or Quote for a buy-now quote). */
  reopen: { from: [P.Submitted], to: [P.Unpaid, P.Quote] },
  /**
   * Money arrived late (for an attempt already failed): it pays the purchase if the purchase is still owed
   * (payable, waiting on another attempt, or given up on); otherwise it is listed for a refund.
   */
  payLate: { from: [P.Unpaid, P.Quote, P.Submitted, P.Failed], to: P.Paid },
  /** The payment that paid it was returned (a debit order reported unpaid after it cleared): owed again. */
  returned: { from: [P.Paid], to: P.Unpaid },
  /** What it paid for could not be delivered (the vendor declined the vend): cancelled, its payment refunded. */
  undelivered: { from: [P.Paid], to: P.Cancelled },
} as const satisfies Record<string, { from: readonly PurchaseStatusId[]; to: PurchaseStatusId | readonly PurchaseStatusId[] }>;

/** A purchase in this status is owed: it makes its service InArrears until it is paid. */
export const OWED_PURCHASE_STATUS = P.Unpaid;
