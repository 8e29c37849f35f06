/**
 * Demo data ids. Those from seed 000 are the document's own, so its example calls work as written
 * (the day-bundle buy-now payload's placeholder id is the demo DayBundle service and bundle price).
 */
export const DEMO = {
  operatorId: '00000000-0000-4000-8000-000000000099',
  collectorId: '195ccad5-02fc-4dc2-8589-7d85e44ffe30',
  customerId: '2e15812f-34d7-4903-898e-ed3dcc6704a1',
  customerUserId: 'a40efeb6-7f8f-42c2-ba57-5f08328b1c28',
  integratorUserId: '00000000-0000-4000-8000-00000000a001',
  adminUserId: '00000000-0000-4000-8000-00000000a002',
  sources: {
    shop2Shop: '45eccc98-3247-43c9-a398-3c3c2c5ad39d',
    eft: '73a0f701-6a19-4146-ae90-2af6c1f14c7a',
    yoco: '906e5f88-6c5e-4a30-8044-74f8549632bc',
    cash: '95bfcea4-7fa6-494a-8def-11fd940763da',
    paymentLink: 'e8cc35b7-192c-412e-9f1f-755c9835a0e8',
  },
  products: {
    recurring: '00000000-0000-4000-8000-0000000000a1',
    dayBundle: '00000000-0000-4000-8000-0000000000a2',
    hybrid: '00000000-0000-4000-8000-0000000000a3',
    electricity: '00000000-0000-4000-8000-0000000000a4',
  },
  prices: {
    monthly: '41d48ce6-753e-4678-96b2-7f2f08fee202',
    bundle1Day: '00000000-0000-4000-8000-0000000000b1',
    bundle7Day: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
    bundle30Day: '00000000-0000-4000-8000-0000000000b3',
    hybrid30Day: '00000000-0000-4000-8000-0000000000b4',
  },
  mediums: {
    card: 'f3fe1a0a-c27b-4860-8159-6b94eb4c608d',
    paymentLink: '52db8e7c-bfbc-4e30-981b-c6477abdc59e',
    offSystem: '58668902-5c08-45b0-b7ea-92fd760f1244',
  },
  services: {
    /** Seed 000's service: Recurring, PendingIspApplication, InArrears, collection day 15, upfront unpaid. */
    recurringInArrears: 'e14c231d-5899-44be-b7a1-aa46893c8d83',
    /** Seed 000's recurring buy-now example: paid up, buys months ahead. */
    recurringPaidUp: '2afddac4-dfd8-40e6-ba4c-250b4926a4a8',
    dayBundle: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
    hybrid: '00000000-0000-4000-8000-0000000000c3',
    /** Prepaid electricity on the vendor sandbox's meter that vends (SPEC §12). */
    electricity: '00000000-0000-4000-8000-0000000000c4',
  },
  plans: {
    recurringInArrears: '3e0ddf82-8912-459a-a6ec-f6640fdf8206',
    recurringPaidUp: '00000000-0000-4000-8000-0000000000d2',
    dayBundle: '00000000-0000-4000-8000-0000000000d3',
    hybrid: '00000000-0000-4000-8000-0000000000d4',
    electricity: '00000000-0000-4000-8000-0000000000d5',
  },
  purchases: {
    arrears: '62289f11-d7b4-4160-b51b-61c1a780be3b',
    arrearsLine: '63eefe80-0ca9-431d-9105-65d56d1561c9',
  },
} as const;

/**
 * The demo card (Visa 4242…) as the PayFast sandbox knows it: a 36-character ad-hoc token. The sandbox
 * seeds the same token, so charging the demo card medium works out of the box.
 */
/** The vendor sandbox's meters (SPEC §12): vends; first answer lost; refused; unknown. */
export const DEMO_METERS = { vends: '01234567890', lostFirstAnswer: '01234560408', refused: '01234560503', unknown: '01234560999' } as const;

export const DEMO_PAYFAST_CARD_TOKEN = '7b3e9d2a-41c6-4f8e-9a55-0d1c2b3e4f5a';
