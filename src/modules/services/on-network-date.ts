import { isIsoDate, sameDayYearsBefore, type IsoDate } from '../../domain/periods.ts';
import { UnprocessableError } from '../../lib/errors.ts';

/**
 * An on-network date (an order's or an activation's) is a day that has come, at most a year back: a date
 * ahead would make the service Active before its line is live. `subject` names the error codes (`service.…`,
 * `order.…`).
 */
export function checkOnNetworkDate(subject: 'service' | 'order', date: IsoDate, today: IsoDate): void {
  const field = { name: 'body.on_network_date' };
  if (!isIsoDate(date)) throw new UnprocessableError(`${subject}.on_network_date_invalid`, 'on_network_date must be a calendar date.', { errors: [{ ...field, reason: 'is not a calendar date' }] });
  if (date > today) throw new UnprocessableError(`${subject}.on_network_date_in_future`, `on_network_date cannot be later than today (${today}): a line is live from a day that has come.`, { errors: [{ ...field, reason: `is later than today (${today})` }] });
  const yearAgo = sameDayYearsBefore(today, 1);
  if (date < yearAgo) throw new UnprocessableError(`${subject}.on_network_date_out_of_range`, `on_network_date must be within a year before today (from ${yearAgo}).`, { errors: [{ ...field, reason: `is before ${yearAgo}` }] });
}
