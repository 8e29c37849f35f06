import { describe, expect, it } from 'vitest';
import { parseFlags } from './cli-flags.ts';

describe('parseFlags', () => {
  const names = ['--as-of', '--operator'] as const;
  it('reads each flag as --name value or --name=value', () => {
    expect(parseFlags(['--as-of', '2027-01-05', '--operator=abc'], names)).toEqual({ flags: { '--as-of': '2027-01-05', '--operator': 'abc' } });
    expect(parseFlags([], names)).toEqual({ flags: {} });
  });
  it('refuses a flag given twice rather than guess which was meant', () => {
    expect(parseFlags(['--as-of', '2027-01-05', '--as-of', '2027-01-04'], names)).toEqual({ error: '--as-of is given twice.' });
    expect(parseFlags(['--as-of=2027-01-05', '--as-of', '2027-01-05'], names)).toEqual({ error: '--as-of is given twice.' });
  });
  it('refuses unknown flags, stray words and flags without a value', () => {
    expect(parseFlags(['--asof', '2027-01-05'], names)).toEqual({ error: 'Unknown option "--asof".' });
    expect(parseFlags(['--as-of', '2027-01-05', 'now'], names)).toEqual({ error: 'Unexpected argument "now".' });
    expect(parseFlags(['--as-of'], names)).toEqual({ error: '--as-of needs a value.' });
    expect(parseFlags(['--as-of', '--operator', 'x'], names)).toEqual({ error: '--as-of needs a value.' });
    expect(parseFlags(['--as-of='], names)).toEqual({ error: '--as-of needs a value.' });
  });
});
