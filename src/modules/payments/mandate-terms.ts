import type { AppContext } from '../../context.ts';
import { PurchaseLineType } from '../../domain/enums.ts';
import { civilDate, nextCollectionDate } from '../../domain/periods.ts';
import type { MandateTerms } from '../../providers/contract.ts';

/** SPEC §11: the card must stay valid three months past the first collection. */
const MINIMUM_VALIDITY_MONTHS = 3;

/**
 * The monthly mandate a card set up for a service would carry (SPEC §11): the service's monthly price on its
 * collection day, from the next collection date. Null for a service not billed monthly (a day bundle), or
 * one whose product has no monthly price.
 */
export async function mandateTermsOf(ctx: AppContext, serviceId: string): Promise<MandateTerms | null> {
  const [row] = await ctx.database.query<{ billing_scheme: string; day: number | null; monthly: string | number | null }>(
    `SELECT p.billing_scheme, coalesce(s.collection_day, p.default_collection_day) AS day,
      (SELECT x.price_incl_cents FROM product_prices x
        WHERE x.product_id = p.id AND x.line_type_id = ${PurchaseLineType.Monthly} AND x.active ORDER BY x.position LIMIT 1) AS monthly
    FROM services s JOIN products p ON p.id = s.product_id
    WHERE s.id = $1`,
    [serviceId],
  );
  if (!row || row.billing_scheme !== 'Recurring' || row.day === null || row.monthly === null) return null;
  const day = Number(row.day);
  return {
    frequency: 'Monthly',
    day,
    amount: { amountCents: Number(row.monthly), currency: 'ZAR' },
    firstPaymentDate: nextCollectionDate(civilDate(ctx.clock()), day),
    minimumValidityMonths: MINIMUM_VALIDITY_MONTHS,
  };
}
