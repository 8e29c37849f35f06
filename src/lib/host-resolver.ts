import { lookup } from 'node:dns/promises';

/** Every address a host name resolves to, as `dns.lookup(name, { all: true })` gives them. */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

/** The system resolver, as connections use it (getaddrinfo: /etc/hosts, then DNS), every address. */
export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
