import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, civilDate, daysBetween, extendPeriod, isIsoDate, nextCollectionDate, proRataDays, sameDayYearsBefore } from './periods.ts';

const dateArb = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));

describe('periods', () => {
  it('finds the same day a year before, 29 February becoming the 28th', () => {
    expect(sameDayYearsBefore('2026-12-05', 1)).toBe('2025-12-05');
    expect(sameDayYearsBefore('2028-02-29', 1)).toBe('2027-02-28');
    expect(sameDayYearsBefore('2029-03-01', 1)).toBe('2028-03-01');
  });

  it('validates calendar dates', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2023-02-29')).toBe(false);
    expect(isIsoDate('2024-13-01')).toBe(false);
    expect(isIsoDate('24-01-01')).toBe(false);
  });

  it('takes the years 1 to 99 as those years (Date.UTC would make them 1901–1999), and no year 0', () => {
    expect(isIsoDate('0001-01-01')).toBe(true);
    expect(isIsoDate('0099-12-31')).toBe(true);
    expect(isIsoDate('0004-02-29')).toBe(true);
    expect(isIsoDate('0100-02-29')).toBe(false);
    expect(isIsoDate('0000-01-01')).toBe(false);
    expect(addDays('0099-12-31', 1)).toBe('0100-01-01');
    expect(daysBetween('0001-01-01', '0002-01-01')).toBe(365);
  });

  it('uses South African civil dates', () => {
    expect(civilDate(new Date('2024-06-30T22:30:00Z'))).toBe('2024-07-01');
    expect(civilDate(new Date('2024-06-30T21:59:00Z'))).toBe('2024-06-30');
  });

  it('next collection date is strictly after, on the collection day', () => {
    expect(nextCollectionDate('2024-06-06', 15)).toBe('2024-06-15');
    expect(nextCollectionDate('2024-06-15', 15)).toBe('2024-07-15');
    expect(nextCollectionDate('2024-12-20', 1)).toBe('2025-01-01');
    expect(proRataDays('2024-06-06', 15)).toBe(9);
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 1, max: 31 }), (d, day) => {
        const next = nextCollectionDate(d, day);
        expect(next > d).toBe(true);
        // On the day, or on the last day of a month too short for it.
        const lastOfMonth = addDays(`${next.slice(0, 8)}01`, 40).slice(0, 8) + '01';
        expect(Number(next.slice(8)) === day || addDays(next, 1) === lastOfMonth).toBe(true);
        expect(Number(next.slice(8))).toBeLessThanOrEqual(day);
        const days = proRataDays(d, day);
        expect(days).toBeGreaterThanOrEqual(1);
        expect(days).toBeLessThanOrEqual(31);
      }),
    );
  });

  it('collection days 29–31 fall on the last day of shorter months, and come back in longer ones', () => {
    expect(nextCollectionDate('2027-01-31', 31)).toBe('2027-02-28');
    expect(nextCollectionDate('2027-02-28', 31)).toBe('2027-03-31');
    expect(nextCollectionDate('2028-01-31', 31)).toBe('2028-02-29'); // a leap year
    expect(nextCollectionDate('2028-02-29', 30)).toBe('2028-03-30');
    expect(nextCollectionDate('2027-03-31', 31)).toBe('2027-04-30');
    expect(nextCollectionDate('2027-04-30', 31)).toBe('2027-05-31');
    expect(nextCollectionDate('2027-02-27', 29)).toBe('2027-02-28');
    // A year of day 31: one date in each month.
    const dates: string[] = [];
    for (let d = '2027-12-31'; dates.length < 12; ) dates.push((d = nextCollectionDate(d, 31)));
    expect(dates.map((x) => x.slice(5, 7))).toEqual(['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12']);
    expect(dates[1]).toBe('2028-02-29');
  });

  it('addDays and daysBetween are inverse', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: -5000, max: 5000 }), (d, n) => {
        expect(daysBetween(d, addDays(d, n))).toBe(n);
      }),
    );
  });

  it('a purchase extends a current period and restarts a lapsed one from today', () => {
    expect(extendPeriod('2024-03-10', '2024-03-01', 7)).toBe('2024-03-17');
    expect(extendPeriod('2024-02-10', '2024-03-01', 7)).toBe('2024-03-08');
    expect(extendPeriod(null, '2024-03-01', 21)).toBe('2024-03-22');
    fc.assert(
      fc.property(fc.option(dateArb, { nil: null }), dateArb, fc.integer({ min: 0, max: 1000 }), (end, today, days) => {
        const next = extendPeriod(end, today, days);
        expect(daysBetween(today, next)).toBeGreaterThanOrEqual(days);
        if (end !== null) expect(next >= end).toBe(true);
      }),
    );
  });
});
