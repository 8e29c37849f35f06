import { isIP } from 'node:net';

/** An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) as the IPv4 address it is. */
export const plainAddress = (address: string): string => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

export const isLoopback = (address: string): boolean => {
  const a = plainAddress(address);
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
};

const ipv4 = (address: string): number | null => {
  if (isIP(address) !== 4) return null;
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
};

/** Whether an IPv4 address lies in one of the ranges (`197.97.145.144/28`, or a single address). */
export function inRanges(address: string, ranges: readonly string[]): boolean {
  const value = ipv4(plainAddress(address));
  if (value === null) return false;
  return ranges.some((range) => {
    const [base, bits = '32'] = range.split('/');
    const start = ipv4(base ?? '');
    if (start === null) return false;
    const size = 2 ** (32 - Number(bits));
    const first = Math.floor(start / size) * size;
    return value >= first && value < first + size;
  });
}
