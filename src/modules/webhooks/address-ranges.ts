import { isIP } from 'node:net';

/**
 * Which part of the address space an IP address belongs to, so that a webhook (a request to a URL an
 * operator's staff typed) never reaches payrail's own host, its network or the cloud's metadata service.
 * Pure. Tables from RFC 6890 (special-purpose registries), RFC 6598 (CGNAT) and RFC 4193 (unique local);
 * IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that IPv4 address, and IPv6
 * outside 2000::/3 (the only global unicast block handed out) is never public.
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'reserved';

export const CLASS_DESCRIPTIONS: Record<Exclude<AddressClass, 'public'>, string> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  'link-local': 'a link-local address (where cloud metadata services live)',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  reserved: 'a reserved, non-public address',
};

/** An address as 4 or 16 bytes. */
export type AddressBytes = Uint8Array;

interface Range {
  bytes: AddressBytes;
  prefix: number;
}

export function parseAddress(text: string): AddressBytes | null {
  const ip = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(ip);
  if (family === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (family === 6) return parseV6(ip);
  return null;
}

function parseV6(ip: string): AddressBytes | null {
  // A zone (fe80::1%eth0) names an interface: such an address is link-local whatever it says.
  const bare = ip.split('%')[0]!;
  let groups: number[] = [];
  const [head, tail, extra] = bare.split('::');
  if (extra !== undefined) return null;
  const part = (s: string | undefined): number[] | null => {
    if (!s) return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = g.split('.').map(Number);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = part(head);
  const t = part(tail);
  if (!h || !t) return null;
  groups = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** `10.0.0.0/8`, `fc00::/7`, or one address (a /32 or /128). */
export function parseRange(text: string): Range | null {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined) return null;
  const bytes = parseAddress(address ?? '');
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (bits === undefined) return { bytes, prefix: max };
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) return null;
  return { bytes, prefix: Number(bits) };
}

export function inRange(address: AddressBytes, range: Range): boolean {
  if (address.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const take = Math.min(8, range.prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((address[bit / 8]! & mask) !== (range.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

const table = (entries: [string, AddressClass][]) => entries.map(([r, c]) => ({ range: parseRange(r)!, class: c }));

const V4 = table([
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'private'], // carrier-grade NAT (RFC 6598); Alibaba's metadata is 100.100.100.200
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'], // 169.254.169.254: AWS, GCP, Azure metadata
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // and 255.255.255.255
]);

const V6 = table([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'private'], // local-use NAT64
  ['100::/64', 'reserved'],
  ['2001::/23', 'reserved'], // Teredo tunnels, benchmarking, ORCHID …
  ['2001:db8::/32', 'reserved'],
  ['fc00::/7', 'private'], // unique local (RFC 4193); AWS's IPv6 metadata is fd00:ec2::254
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // the old site-local block
  ['ff00::/8', 'multicast'],
]);

/** IPv6 prefixes that carry an IPv4 address, and where it sits. */
const EMBEDDING: { range: Range; at: number }[] = [
  { range: parseRange('::ffff:0:0/96')!, at: 12 }, // IPv4-mapped
  { range: parseRange('::/96')!, at: 12 }, // IPv4-compatible (deprecated)
  { range: parseRange('64:ff9b::/96')!, at: 12 }, // NAT64
  { range: parseRange('2002::/16')!, at: 2 }, // 6to4
];
const GLOBAL_UNICAST = parseRange('2000::/3')!;

export function classifyBytes(bytes: AddressBytes): AddressClass {
  if (bytes.length === 4) return V4.find((e) => inRange(bytes, e.range))?.class ?? 'public';
  const known = V6.find((e) => inRange(bytes, e.range));
  if (known) return known.class;
  const embedding = EMBEDDING.find((e) => inRange(bytes, e.range));
  if (embedding) return classifyBytes(bytes.slice(embedding.at, embedding.at + 4));
  return inRange(bytes, GLOBAL_UNICAST) ? 'public' : 'reserved';
}

/** The class of an IP address written as text; null when it is not one. */
export function classifyAddress(text: string): AddressClass | null {
  const bytes = parseAddress(text);
  if (!bytes) return null;
  if (bytes.length === 16 && text.includes('%')) return 'link-local';
  return classifyBytes(bytes);
}
