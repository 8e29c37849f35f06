import type { AllocationInput, AttemptResult, Connector } from '../contract.ts';

/**
 * Money collected outside payrail (cash, EFT, Yoco, Shop 2 Shop, a payment link paid elsewhere): an
 * integrator records it against a purchase source. Nothing is debited and nobody is called, so the
 * allocation is final as soon as it is recorded.
 */
export const offSystemConnector: Connector = {
  id: 'OffSystem',
  timing: { firstCheckAfterMs: 0 },
  async allocate(input: AllocationInput): Promise<AttemptResult> {
    return {
      status: 'succeeded',
      providerReference: input.merchantReference,
      amount: input.amount,
      raw: { purchase_source_id: input.purchaseSourceId, comment: input.comment },
    };
  },
};
