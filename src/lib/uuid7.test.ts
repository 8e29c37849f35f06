import { describe, expect, it } from 'vitest';
import { uuid7, uuid7Time } from './uuid7.ts';

describe('uuid7', () => {
  it('is an RFC 9562 version-7 UUID carrying the millisecond it was made at', () => {
    const at = Date.UTC(2026, 11, 4, 21, 30, 0, 123);
    const id = uuid7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuid7Time(id)).toBe(at);
  });

  it('sorts by time: an id made a millisecond later is greater, as text and as the database orders uuids', () => {
    const base = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 200 }, (_, i) => uuid7(base + i));
    expect([...ids].sort()).toEqual(ids);
  });

  it('is random within a millisecond, and unique', () => {
    const at = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => uuid7(at)));
    expect(ids.size).toBe(10_000);
  });

  it('tells other versions apart', () => {
    expect(uuid7Time('3f1c2b4e-8a3d-4b7e-9c1a-2d3e4f5a6b7c')).toBeNull();
    expect(uuid7Time('not a uuid')).toBeNull();
  });
});
