import { ApiError, NetworkError, messageOf } from './api';

const DECLINED = 'Your card was declined. You have not been charged; try another card.';

/** What a failed attempt's failure_code (or a 402's problem code) means to the customer. */
export function declineMessage(code: string | null | undefined): string {
  switch (code) {
    case 'payment.insufficient_funds':
    case 'insufficient_funds':
      return 'Your card has insufficient funds. You have not been charged; try another card or top up and try again.';
    case 'payment.card_expired':
    case 'expired':
      return 'This card has expired. You have not been charged; please use another card.';
    case 'payment.cancelled':
    case 'cancelled':
      return 'The payment was cancelled. You have not been charged.';
    default:
      return DECLINED;
  }
}

/** Pay Now's answers to a refused submit-for-collection, by status and problem code. */
export function payErrorMessage(err: unknown): string {
  if (err instanceof NetworkError) return 'Could not reach payrail. Check your connection.';
  if (!(err instanceof ApiError)) return messageOf(err);
  const code = err.problem.code;
  switch (err.status) {
    case 402:
      return declineMessage(code);
    case 503:
      return 'The payment provider is unavailable right now. Nothing was charged; please try again in a few minutes.';
    case 409:
      if (code === 'purchase.already_paid') return 'This purchase is already paid.';
      if (code === 'purchase.collection_in_flight') return 'A payment for this purchase is already in progress.';
      return err.problem.detail || 'This purchase cannot be paid right now.';
    case 403:
      return err.problem.detail || 'You may not pay with this payment method.';
    default:
      return messageOf(err);
  }
}
