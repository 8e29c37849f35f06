/**
 * Calendar dates (`YYYY-MM-DD`) for billing periods. Dates are civil dates in the operator's time zone
 * (South Africa: UTC+2 all year, no daylight saving), computed on UTC midnights so no local clock leaks in.
 *
 * `latest_period_end_date` is the date the paid period ends: a 7-day bundle bought on 1 March covers
 * 1–7 March and ends on 8 March.
 */
export type IsoDate = string;

const DAY_MS = 86_400_000;
/** South Africa Standard Time. */
export const OPERATOR_UTC_OFFSET_MINUTES = 120;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A date from 0001-01-01 to 9999-12-31 (PostgreSQL has no year 0). */
export function isIsoDate(value: string): value is IsoDate {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const [y, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1) return false;
  const d = new Date(utcMs(y, month, day));
  return d.getUTCFullYear() === y && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Midnight UTC of a date; unlike Date.UTC, years 0–99 are those years, not 1900–1999. */
function utcMs(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

function toUtcMs(date: IsoDate): number {
  if (!isIsoDate(date)) throw new RangeError(`not a calendar date: ${date}`);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return utcMs(y, m, d);
}

const fromUtcMs = (ms: number): IsoDate => new Date(ms).toISOString().slice(0, 10);

/** The operator's calendar date at an instant. */
export const civilDate = (instant: Date, offsetMinutes = OPERATOR_UTC_OFFSET_MINUTES): IsoDate =>
  fromUtcMs(instant.getTime() + offsetMinutes * 60_000);

export const addDays = (date: IsoDate, days: number): IsoDate => fromUtcMs(toUtcMs(date) + days * DAY_MS);

/** The same day `years` years earlier; 29 February becomes 28 February in a year without it. */
export function sameDayYearsBefore(date: IsoDate, years: number): IsoDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const year = String(y - years).padStart(4, '0');
  const candidate = `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  return isIsoDate(candidate) ? candidate : `${year}-${String(m).padStart(2, '0')}-${String(d - 1).padStart(2, '0')}`;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: IsoDate, to: IsoDate): number => Math.round((toUtcMs(to) - toUtcMs(from)) / DAY_MS);

export const maxDate = (a: IsoDate, b: IsoDate): IsoDate => (a >= b ? a : b);

/** Collection days run 1–31; in a shorter month a day past its end is collected on its last day. */
export const isCollectionDay = (day: number): boolean => Number.isInteger(day) && day >= 1 && day <= 31;

/** The collection date of a month (`month0` 0-based, may overflow into the next year): the day, clamped to the month's end. */
function collectionDateIn(year: number, month0: number, collectionDay: number): IsoDate {
  const lastDay = new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
  return fromUtcMs(Date.UTC(year, month0, Math.min(collectionDay, lastDay)));
}

/**
 * The first collection date strictly after `from` (day 31: 31 January, 28 or 29 February, 31 March …).
 * The same rule as the database's payrail_next_collection_date (migration 0007), which billing runs use.
 */
export function nextCollectionDate(from: IsoDate, collectionDay: number): IsoDate {
  if (!isCollectionDay(collectionDay)) throw new RangeError(`collection day must be 1–31, got ${collectionDay}`);
  const [y, m] = from.split('-').map(Number) as [number, number, number];
  const thisMonth = collectionDateIn(y, m - 1, collectionDay);
  return thisMonth > from ? thisMonth : collectionDateIn(y, m, collectionDay);
}

/** Days an upfront (pro-rata) purchase covers: from the order date up to the next collection day. */
export const proRataDays = (orderDate: IsoDate, collectionDay: number): number =>
  daysBetween(orderDate, nextCollectionDate(orderDate, collectionDay));

/**
 * Where the paid period ends after buying `days` more: days bought ahead extend the current period; a
 * lapsed period starts again from today.
 */
export function extendPeriod(currentEnd: IsoDate | null, today: IsoDate, days: number): IsoDate {
  const start = currentEnd === null ? today : maxDate(currentEnd, today);
  return addDays(start, days);
}
