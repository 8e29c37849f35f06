import { systemResolver, type HostResolver } from '../../lib/host-resolver.ts';
import { CLASS_DESCRIPTIONS, classifyAddress, inRange, parseAddress, parseRange } from './address-ranges.ts';

/**
 * Where a webhook may go. Outside sandbox mode only to public internet addresses, judged by what the
 * host name resolves to (every address it resolves to), unless the operator named the host in
 * PAYRAIL_WEBHOOK_ALLOWED_HOSTS. The check is made when an endpoint is saved and again before every
 * attempt, and the attempt connects to the addresses that were checked (see post-webhook.ts): a name
 * that resolves to a public address when checked and to 127.0.0.1 a moment later (DNS rebinding)
 * still never reaches 127.0.0.1. In sandbox mode anything goes: tests and the demo receive on localhost.
 */
export interface TargetPolicy {
  sandbox: boolean;
  /** PAYRAIL_WEBHOOK_ALLOWED_HOSTS: host names, IP addresses or CIDR ranges. */
  allowedHosts: readonly string[];
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** `reason` says why in a phrase (`10.0.0.1 is a private network address`). */
export type TargetVerdict = { ok: true; addresses: ResolvedAddress[] | null } | { ok: false; reason: string };

export { systemResolver };

const normalName = (host: string): string => host.toLowerCase().replace(/\.$/, '');

/** A resolver that does not answer within this long is taken as no answer (a delivery worker waits for it). */
const RESOLVE_TIMEOUT_MS = 5_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the resolver did not answer in time')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Judge a URL's host. `addresses` are what the request must connect to (null: the host is an IP
 * address, or sandbox mode, where nothing is pinned). A host name's reason never says what it resolved
 * to, so that this cannot be used to map the names of payrail's own network.
 */
export async function checkTarget(url: URL, policy: TargetPolicy, resolve: HostResolver = systemResolver): Promise<TargetVerdict> {
  if (policy.sandbox) return { ok: true, addresses: null };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : normalName(url.hostname);
  const names = policy.allowedHosts.filter((h) => parseAddress(h) === null && parseRange(h) === null).map(normalName);
  const ranges = policy.allowedHosts.map(parseRange).filter((r) => r !== null);
  const allowedAddress = (address: string) => {
    const bytes = parseAddress(address);
    return bytes !== null && ranges.some((r) => inRange(bytes, r));
  };

  const literal = classifyAddress(host);
  if (literal !== null) {
    if (literal === 'public' || allowedAddress(host)) return { ok: true, addresses: null };
    return { ok: false, reason: `${host} is ${CLASS_DESCRIPTIONS[literal]}` };
  }
  const named = names.includes(host);
  // RFC 6761: these names are this machine, whatever a resolver says.
  if (!named && (host === 'localhost' || host.endsWith('.localhost'))) {
    return { ok: false, reason: `${host} is this machine (${CLASS_DESCRIPTIONS.loopback})` };
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await withTimeout(resolve(host), RESOLVE_TIMEOUT_MS);
  } catch {
    addresses = [];
  }
  const refused = `${host} does not resolve to public internet addresses only`;
  if (addresses.length === 0) return { ok: false, reason: refused };
  if (named) return { ok: true, addresses };
  // Every address: a name with one public and one private address would otherwise reach the private one.
  if (addresses.some((a) => classifyAddress(a.address) !== 'public' && !allowedAddress(a.address))) return { ok: false, reason: refused };
  return { ok: true, addresses };
}
