/**
 * The events payrail tells an operator's systems about (SPEC §7), each with what it means. A type's
 * meaning never changes; a new kind of event gets a new type. Endpoints subscribe to a list of these
 * (an empty list means all).
 */
export const EVENT_TYPES = {
  'purchase.paid': 'A purchase is paid in full (by a provider charge or an off-system allocation). Final.',
  'purchase.payment_failed': 'A collection attempt for a purchase failed; the purchase stays payable unless it was given up on.',
  'payment.succeeded': 'A provider confirmed a payment (collection attempt) as successful.',
  'payment.failed': 'A provider declined a payment or confirmed it failed.',
  'payment.unknown': 'A payment’s outcome is not known yet (the provider’s answer was lost); payrail will ask the provider and send payment.succeeded or payment.failed.',
  'payment.late_success': 'A provider reported money taken for a payment payrail had already failed (or for a purchase another payment had paid): it paid the purchase if it was still owed (disposition paid_purchase), otherwise it is listed for a refund (refund_due).',
  'payment.returned': 'A payment that had succeeded was returned (a debit order reported unpaid by the bank after it cleared): the payment stays succeeded, its purchase is owed again (Unpaid) and its service is in arrears. One per payment.',
  'purchase.created': 'A purchase was created by billing (a Recurring service’s month): it is due, and will be collected with the service’s active medium if it has one.',
  'purchase.failed': 'A purchase was given up on (an auto-recharge after its last attempt): status Failed. Final.',
  'service.activated': 'A service was activated (the line is on the network): Recurring billing starts from its next collection day.',
  'service.cancelled': 'A service was cancelled: it is never billed again, and its Scheduled purchases are Cancelled.',
  'service.suspended': 'A service was suspended by a billing run: still owing on its suspension date, or its day bundle ended.',
  'service.reinstated': 'A suspended service is Active again: everything it owed is paid (by any route).',
  'medium.created': 'A payment medium (card, bank account, payment link) was added to a customer.',
  'medium.updated': 'A payment medium changed: its status (Valid, Expired, Invalid …), its card details, or which medium is active.',
  'payment.refunded': 'Money of a succeeded payment was given back through its provider (a vend the vendor declined, a late success on a purchase already paid, or a staff refund). The payment stays succeeded; refunds says why. One per refund.',
  'payment.refund_failed': 'The provider refused a refund: the money was not given back, and someone must act (refunds says why).',
  'payment.refund_manual': 'A refund is due for a payment made outside payrail (off-system): someone must give the money back by hand.',
  'utility.tokens_issued': 'The vendor issued the prepaid-utility tokens of a paid purchase (units and receipt numbers; never the token digits: GET /purchases/{id}/tokens).',
  'utility.vend_failed': 'The vendor declined a paid utility purchase: no tokens, the purchase is Cancelled and its payment is refunded (payment.refunded follows).',
  'webhook.test': 'A test event sent on request (POST /webhook-endpoints/{id}/test) to one endpoint only.',
} as const satisfies Record<string, string>;

export type EventType = keyof typeof EVENT_TYPES;

export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];

export const isEventType = (value: string): value is EventType => Object.hasOwn(EVENT_TYPES, value);
