import type { Code } from './merchant.ts';

/**
 * Reading a request's fields the way the gateway's model binder does (a .NET service: a JSON integer may
 * also come as a string of digits, names are matched case-insensitively), and the refusal a bad one earns.
 */
export class Refusal {
  constructor(
    readonly code: Code,
    readonly detail: string,
  ) {}
}
export const refuse = (detail: string, code: Code = 'D2'): never => {
  throw new Refusal(code, detail);
};

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A field by any letter case of its name (`Notifications` / `notifications`, `Id` / `id`), or one of its aliases. */
export function field(o: Json, ...names: string[]): unknown {
  for (const name of names) {
    const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key !== undefined && o[key] !== null) return o[key];
  }
  return undefined;
}

/** An optional string of at most `max` characters (and at least `min` when given). */
export function optString(o: Json, name: string, max: number, min = 0, label = name): string | undefined {
  const v = field(o, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return refuse(`${label} must be a string`);
  if (v.length < min || v.length > max) return refuse(min > 0 ? `${label} must be ${min} to ${max} characters` : `${label} must be at most ${max} characters`);
  return v;
}

export function reqString(o: Json, name: string, max: number, min = 1, label = name): string {
  const v = field(o, name);
  if (v === undefined || v === '') return refuse(`${label} is required`);
  return optString(o, name, max, min, label)!;
}

/** An integer (a JSON number, or a string of digits); int32 as the OpenAPI types it. */
export function optInt(o: Json, name: string, label = name): number | undefined {
  const v = field(o, name);
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?[0-9]{1,10}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < -2_147_483_648 || n > 2_147_483_647) return refuse(`${label} must be an integer`);
  return n;
}

export function reqInt(o: Json, name: string, label = name): number {
  const v = optInt(o, name, label);
  return v === undefined ? refuse(`${label} is required`) : v;
}

export function optBool(o: Json, names: string[], label: string): boolean | undefined {
  const v = field(o, ...names);
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return refuse(`${label} must be true or false`);
}

export function optObject(o: Json, name: string): Json | undefined {
  const v = field(o, name);
  if (v === undefined) return undefined;
  return isObject(v) ? v : refuse(`${name} must be an object`);
}

/** An enum given as its number (seed 001) or its name (the OpenAPI), case-insensitively. */
export function optEnum<T extends number>(o: Json, name: string, label: string, byNumber: Record<number, T>, byName: Record<string, T>): T | undefined {
  const v = field(o, name);
  if (v === undefined) return undefined;
  if (typeof v === 'number' || (typeof v === 'string' && /^[0-9]+$/.test(v.trim()))) {
    const hit = byNumber[Number(v)];
    return hit ?? refuse(`${label} ${String(v).trim()} is not a valid code`);
  }
  if (typeof v === 'string') {
    const key = Object.keys(byName).find((k) => k.toLowerCase() === v.trim().toLowerCase());
    return key !== undefined ? (byName[key] as T) : refuse(`${label} ${v.slice(0, 40)} is not a valid value`);
  }
  return refuse(`${label} must be a code or a name`);
}

/** An absolute http(s) URL of at most 255 characters. */
export function optUrl(o: Json, name: string, label: string): string | undefined {
  const v = optString(o, name, 255, 0, label);
  if (v === undefined || v === '') return undefined;
  try {
    const url = new URL(v);
    if (url.protocol === 'http:' || url.protocol === 'https:') return v;
  } catch {
    // refused below
  }
  return refuse(`${label} must be an absolute http(s) URL`);
}

export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** traceId: 12 to 99 characters (seed 001), mandatory on every message. */
export const traceIdOf = (o: Json): string => reqString(o, 'traceId', 99, 12);

/** `electronicReceipt { method 0 SMS | 1 email, address ≤255, mandatory when method is given }`. */
export function electronicReceiptOf(o: Json): { method: 0 | 1; address: string } | undefined {
  const r = optObject(o, 'electronicReceipt');
  if (!r) return undefined;
  const method = optEnum<0 | 1>(r, 'method', 'electronicReceipt.method', { 0: 0, 1: 1 }, { SMS: 0, Email: 1 });
  const address = optString(r, 'address', 255, 0, 'electronicReceipt.address');
  if (method === undefined) return undefined;
  if (!address) return refuse('electronicReceipt.address is required when method is given');
  return { method, address };
}
