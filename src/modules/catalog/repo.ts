import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import type { BillingScheme, PurchaseLineTypeId } from '../../domain/enums.ts';
import type { ProductPrice } from '../../domain/pricing.ts';
import { afterCursor, type PageRequest } from '../../lib/pagination.ts';
import { productPrices, products } from './schema.ts';

export type ProductRow = typeof products.$inferSelect;
export type ProductPriceRow = typeof productPrices.$inferSelect;
export interface ProductWithPrices extends ProductRow {
  prices: ProductPriceRow[];
}

/** The domain's view of a stored price. */
export const toDomainPrice = (p: ProductPriceRow): ProductPrice => ({
  id: p.id,
  description: p.description,
  lineTypeId: p.lineTypeId as PurchaseLineTypeId,
  priceInclCents: p.priceInclCents,
  periodContributionPerQuantity: p.periodContributionPerQuantity,
  daysInPeriod: p.daysInPeriod,
  onOrder: p.onOrder,
  buyNow: p.buyNow,
  maxQuantity: p.maxQuantity,
});

export const schemeOf = (p: ProductRow): BillingScheme => p.billingScheme as BillingScheme;

export async function findProduct(db: Executor, operatorId: string, id: string): Promise<ProductWithPrices | null> {
  const [product] = await db.select().from(products).where(and(eq(products.id, id), eq(products.operatorId, operatorId)));
  if (!product) return null;
  const prices = await db
    .select()
    .from(productPrices)
    .where(and(eq(productPrices.productId, id), eq(productPrices.active, true)))
    .orderBy(asc(productPrices.position), asc(productPrices.description));
  return { ...product, prices };
}

export async function listProducts(db: Executor, operatorId: string, page: PageRequest): Promise<ProductWithPrices[]> {
  const rows = await db
    .select()
    .from(products)
    .where(and(eq(products.operatorId, operatorId), afterCursor(page, products.createdAt, products.id)))
    .orderBy(desc(products.createdAt), desc(products.id))
    .limit(page.limit + 1);
  if (rows.length === 0) return [];
  const prices = await db
    .select()
    .from(productPrices)
    .where(and(inArray(productPrices.productId, rows.map((r) => r.id)), eq(productPrices.active, true)))
    .orderBy(asc(productPrices.position), asc(productPrices.description));
  return rows.map((r) => ({ ...r, prices: prices.filter((p) => p.productId === r.id) }));
}

/**
 * A product and its prices; or which id is taken (by any operator's product or price), with nothing
 * kept of it once the caller's transaction rolls back.
 */
export async function insertProduct(
  db: Executor,
  product: typeof products.$inferInsert & { id: string },
  prices: (typeof productPrices.$inferInsert & { id: string })[],
): Promise<ProductWithPrices | { taken: 'product' | 'product_price'; id: string }> {
  const [created] = await db.insert(products).values(product).onConflictDoNothing({ target: products.id }).returning();
  if (!created) return { taken: 'product', id: product.id };
  const createdPrices = prices.length > 0 ? await db.insert(productPrices).values(prices).onConflictDoNothing({ target: productPrices.id }).returning() : [];
  const missing = prices.find((p) => !createdPrices.some((c) => c.id === p.id));
  if (missing) return { taken: 'product_price', id: missing.id };
  return { ...created, prices: createdPrices.sort((a, b) => a.position - b.position) };
}
