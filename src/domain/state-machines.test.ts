import { describe, expect, it } from 'vitest';
import { PaymentStatuses, PurchaseStatus } from './enums.ts';
import { canMovePayment, canMovePurchase, isTerminalPayment } from './state-machines.ts';

describe('state machines', () => {
  it('payments never leave succeeded or failed, and never go back to pending', () => {
    for (const to of PaymentStatuses) {
      expect(canMovePayment('succeeded', to)).toBe(false);
      expect(canMovePayment('failed', to)).toBe(false);
      expect(canMovePayment(to, 'pending')).toBe(false);
    }
    expect(canMovePayment('pending', 'unknown')).toBe(true);
    expect(canMovePayment('unknown', 'succeeded')).toBe(true);
    expect(isTerminalPayment('unknown')).toBe(false);
  });

  it('a paid purchase is final but for a returned payment (owed again) or an undelivered vend (cancelled); a failed attempt returns it to payable', () => {
    for (const to of Object.values(PurchaseStatus)) expect(canMovePurchase(PurchaseStatus.Paid, to)).toBe(to === PurchaseStatus.Unpaid || to === PurchaseStatus.Cancelled);
    expect(canMovePurchase(PurchaseStatus.Submitted, PurchaseStatus.Unpaid)).toBe(true);
    expect(canMovePurchase(PurchaseStatus.Submitted, PurchaseStatus.Quote)).toBe(true);
    expect(canMovePurchase(PurchaseStatus.Unpaid, PurchaseStatus.Quote)).toBe(false);
  });
});
