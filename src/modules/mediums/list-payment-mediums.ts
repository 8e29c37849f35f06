import type { AppContext } from '../../context.ts';
import type { MediumStatus, MediumType, Provider } from '../../domain/enums.ts';
import { NotFoundError } from '../../lib/errors.ts';
import type { ServiceScope } from '../services/repo.ts';
import { GLOBAL_OPAQUE_MEDIUM_ID, type MediumRow } from './repo.ts';

export interface PaymentMedium {
  medium: MediumRow;
  /** The medium is the active medium of one of the customer's services. */
  isLinked: boolean;
}

/**
 * `GET /payment-mediums?userId=` (seed 000): the valid mediums of the user's customer, then the global
 * "Add new payment method" medium. One round trip; an unknown user (or another customer's user, for a
 * customer) is a 404.
 */
const SQL = `
WITH u AS (
  SELECT customer_id FROM users
   WHERE id = $1::uuid AND operator_id = $2::uuid AND customer_id IS NOT NULL
     AND ($3::uuid IS NULL OR customer_id = $3::uuid)
)
SELECT m.id, m.operator_id, m.customer_id, m.medium_type, m.status, m.provider, m.external_reference,
       m.account_name, m.account_number, m.expiry_month, m.expiry_year, m.mandate, m.created_at, m.updated_at,
       EXISTS (SELECT 1 FROM purchase_plans pp WHERE pp.active_medium_id = m.id) AS is_linked
  FROM mediums m
 WHERE m.status = 'Valid'
   AND (m.customer_id = (SELECT customer_id FROM u) OR (m.id = $4::uuid AND EXISTS (SELECT 1 FROM u)))
 ORDER BY m.customer_id IS NULL, m.created_at, m.id`;

interface Row extends Record<string, unknown> {
  id: string;
  operator_id: string | null;
  customer_id: string | null;
  medium_type: MediumType;
  status: MediumStatus;
  provider: Provider | null;
  external_reference: string;
  account_name: string;
  account_number: string | null;
  expiry_month: number | null;
  expiry_year: number | null;
  mandate: MediumRow['mandate'];
  created_at: Date;
  updated_at: Date;
  is_linked: boolean;
}

export async function listPaymentMediums(ctx: Pick<AppContext, 'database'>, scope: ServiceScope, userId: string): Promise<PaymentMedium[]> {
  const rows = await ctx.database.query<Row>(SQL, [userId, scope.operatorId, scope.customerId, GLOBAL_OPAQUE_MEDIUM_ID], 'payment_mediums_v2');
  if (rows.length === 0) throw new NotFoundError('user', userId);
  return rows.map((r) => ({
    medium: {
      id: r.id,
      operatorId: r.operator_id,
      customerId: r.customer_id,
      mediumType: r.medium_type,
      status: r.status,
      provider: r.provider,
      externalReference: r.external_reference,
      accountName: r.account_name,
      accountNumber: r.account_number,
      expiryMonth: r.expiry_month,
      expiryYear: r.expiry_year,
      mandate: r.mandate,
      createdAt: new Date(r.created_at),
      updatedAt: new Date(r.updated_at),
    },
    isLinked: r.is_linked,
  }));
}
