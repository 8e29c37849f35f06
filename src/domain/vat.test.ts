import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PurchaseLineType } from './enums.ts';
import { rationalToRand, toRand } from './money.ts';
import { daysLine, unitLine, upfrontLines, variableAmountLine, type ProductPrice } from './pricing.ts';
import { compare, rational, sub } from './rational.ts';
import { exclusiveOf, lineAmounts, purchaseTotals, unitsForAmount, type LineInput } from './vat.ts';

const monthly: ProductPrice = {
  id: 'monthly',
  description: 'Monthly Recurring 20/10',
  lineTypeId: PurchaseLineType.Monthly,
  priceInclCents: 37900,
  periodContributionPerQuantity: 30,
  daysInPeriod: 30,
  onOrder: true,
  buyNow: true,
  maxQuantity: 366,
};
const bundle: ProductPrice = {
  id: 'bundle',
  description: '7 Day bundle',
  lineTypeId: PurchaseLineType.Day,
  priceInclCents: 1150,
  periodContributionPerQuantity: 7,
  daysInPeriod: null,
  onOrder: true,
  buyNow: true,
  maxQuantity: 52,
};

describe('seed 000 figures', () => {
  it('R1000 buy-now at R379 a month is 79 days: 867.86 / 132.14 / 1000.00', () => {
    const line = variableAmountLine(monthly, 100000, 1500)!;
    expect(line.quantity).toBe(79);
    const totals = purchaseTotals([line]);
    expect(toRand(totals.amountExclCents)).toBe(867.86);
    expect(toRand(totals.taxCents)).toBe(132.14);
    expect(toRand(totals.amountCents)).toBe(1000);
    const amounts = lineAmounts(line);
    expect(rationalToRand(amounts.amountPerQuantity)).toBeCloseTo(10.9855072463768, 12);
    expect(rationalToRand(amounts.netAmountExcl)).toBeCloseTo(867.855072463768, 10);
    expect(rationalToRand(amounts.taxAmount)).toBeCloseTo(132.144927536232, 10);
  });

  it('three 7-day bundles at R11.50 are 30.00 excl + 4.50 VAT = 34.50', () => {
    const line = unitLine(bundle, 3, 1500);
    const amounts = lineAmounts(line);
    expect(rationalToRand(amounts.amountPerQuantity)).toBe(10);
    expect(rationalToRand(amounts.netAmountExcl)).toBe(30);
    expect(rationalToRand(amounts.taxAmount)).toBe(4.5);
    expect(purchaseTotals([line])).toEqual({ amountCents: 3450, amountExclCents: 3000, taxCents: 450 });
  });

  it('an upfront Recurring order is pro-rata to the collection day', () => {
    const [line] = upfrontLines({ scheme: 'Recurring', prices: [monthly], orderDate: '2024-06-06', collectionDay: 15, rateBp: 1500 });
    expect(line!.quantity).toBe(9);
    expect(line!.description).toBe('On Order/Upfront Monthly');
    expect(line!.totalCents).toBe(11370); // 9 × 379/30 = 113.70
  });
});

const rateBp = fc.integer({ min: 0, max: 3000 });
const priceCents = fc.integer({ min: 1, max: 5_000_000 });
const lineArb = fc
  .record({ price: priceCents, per: fc.integer({ min: 1, max: 31 }), quantity: fc.integer({ min: 1, max: 400 }), rateBp })
  .map(({ price, per, quantity, rateBp }) => {
    const p = { ...monthly, priceInclCents: price, daysInPeriod: per };
    return daysLine(p, quantity, rateBp);
  });

describe('VAT rules (property-based)', () => {
  it('amount = Σ total_amount, amount_excl + tax = amount, amount_excl is Σ net rounded half-up', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 6 }), (lines) => {
        const t = purchaseTotals(lines);
        expect(t.amountCents).toBe(lines.reduce((a, l) => a + l.totalCents, 0));
        expect(t.amountExclCents + t.taxCents).toBe(t.amountCents);
        for (const v of [t.amountCents, t.amountExclCents, t.taxCents]) expect(Number.isSafeInteger(v)).toBe(true);
        const exactNet = lines.map((l) => lineAmounts(l).netAmountExcl).reduce((a, b) => ({ num: a.num * b.den + b.num * a.den, den: a.den * b.den }));
        const diff = sub(rational(t.amountExclCents), rational(exactNet.num, exactNet.den));
        expect(compare(diff, rational(1, 2))).toBeLessThanOrEqual(0);
        expect(compare(diff, rational(-1, 2))).toBe(1); // half-up: -0.5 < diff ≤ 0.5
      }),
    );
  });

  it('each line splits exactly into net + tax = total', () => {
    fc.assert(
      fc.property(lineArb, (line) => {
        const a = lineAmounts(line);
        const back = { num: a.netAmountExcl.num * a.taxAmount.den + a.taxAmount.num * a.netAmountExcl.den, den: a.netAmountExcl.den * a.taxAmount.den };
        expect(compare(rational(back.num, back.den), rational(line.totalCents))).toBe(0);
      }),
    );
  });

  it('VAT is never negative on priced lines, and zero-rated lines carry no VAT', () => {
    fc.assert(
      fc.property(lineArb, (line: LineInput) => {
        const t = purchaseTotals([line]);
        expect(t.taxCents).toBeGreaterThanOrEqual(0);
        if (line.rateBp === 0) expect(t.taxCents).toBe(0);
      }),
    );
  });

  it('a variable amount buys the most whole days it covers and charges exactly the amount', () => {
    fc.assert(
      fc.property(priceCents, fc.integer({ min: 1, max: 31 }), fc.integer({ min: 1, max: 100_000_000 }), rateBp, (price, per, amount, bp) => {
        const p = { ...monthly, priceInclCents: price, daysInPeriod: per };
        const daily = rational(price, per);
        const line = variableAmountLine(p, amount, bp);
        const days = unitsForAmount(amount, daily);
        if (days < 1) {
          expect(line).toBeNull();
          return;
        }
        expect(line!.quantity).toBe(days);
        expect(line!.totalCents).toBe(amount);
        expect(compare(rational(BigInt(days) * BigInt(price), per), rational(amount))).toBeLessThanOrEqual(0);
        expect(compare(rational(BigInt(days + 1) * BigInt(price), per), rational(amount))).toBe(1);
        const t = purchaseTotals([line!]);
        expect(t.amountExclCents + t.taxCents).toBe(amount);
      }),
    );
  });

  it('the exclusive price grows back to the inclusive price', () => {
    fc.assert(
      fc.property(priceCents, rateBp, (price, bp) => {
        const excl = exclusiveOf(rational(price), bp);
        expect(compare(rational(excl.num * BigInt(10_000 + bp), excl.den * 10_000n), rational(price))).toBe(0);
      }),
    );
  });
});
