import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyAddress } from './address-ranges.ts';
import { postWebhook } from './post-webhook.ts';
import { checkTarget } from './target-policy.ts';

describe('address classes', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.254', 'private'],
    ['fd00:ec2::254', 'private'],
    ['fc00::1', 'private'],
    ['64:ff9b:1::a', 'private'],
    ['::ffff:10.1.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['2002:a9fe:a9fe::', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['3fff::1', 'public'],
    ['4000::1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['100.128.0.1', 'public'],
    ['172.32.0.1', 'public'],
    ['93.184.215.14', 'public'],
    ['::ffff:93.184.215.14', 'public'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('is not fooled by something that is not an address', () => {
    expect(classifyAddress('localhost')).toBeNull();
    expect(classifyAddress('1.2.3')).toBeNull();
    expect(classifyAddress('1::2::3')).toBeNull();
  });
});

describe('checkTarget', () => {
  const live = { sandbox: false, allowedHosts: [] };
  const never = async () => {
    throw new Error('must not be asked');
  };

  it('lets anything through in sandbox mode, without resolving', async () => {
    expect(await checkTarget(new URL('http://127.0.0.1:9/x'), { sandbox: true, allowedHosts: [] }, never)).toEqual({ ok: true, addresses: null });
  });

  it('judges an address in the URL without resolving, and names its class', async () => {
    expect(await checkTarget(new URL('https://[::ffff:169.254.169.254]/'), live, never)).toEqual({ ok: false, reason: expect.stringContaining('link-local') });
    expect(await checkTarget(new URL('https://93.184.215.14/'), live, never)).toEqual({ ok: true, addresses: null });
  });

  it('allows CIDR ranges from the setting, and only them', async () => {
    const policy = { sandbox: false, allowedHosts: ['10.8.0.0/16', 'fd00:1::/32'] };
    expect((await checkTarget(new URL('https://10.8.200.1/'), policy, never)).ok).toBe(true);
    expect((await checkTarget(new URL('https://10.9.0.1/'), policy, never)).ok).toBe(false);
    expect((await checkTarget(new URL('https://named/'), policy, async () => [{ address: 'fd00:1:2::3', family: 6 }])).ok).toBe(true);
  });

  it('returns the addresses it checked, for the connection to use', async () => {
    const addresses = [{ address: '93.184.215.14', family: 4 as const }];
    expect(await checkTarget(new URL('https://example.com/'), live, async () => addresses)).toEqual({ ok: true, addresses });
  });
});

describe('postWebhook', () => {
  let server: Server;
  afterAll(() => server?.close());

  it('connects to the pinned address and never looks the name up itself', async () => {
    server = createServer((req, res) => res.writeHead(200, { 'x-hdr': 'header-value' }).end(`host=${req.headers.host} ${'y'.repeat(3000)}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // `.invalid` never resolves (RFC 6761): only the pinned address can be reached.
    const res = await postWebhook(new URL(`http://receiver.invalid:${port}/hooks`), '{}', {}, { addresses: [{ address: '127.0.0.1', family: 4 }], timeoutMs: 5_000 });
    expect(res.statusCode).toBe(200);
    expect(res.excerpt.startsWith(`host=receiver.invalid:${port} yyy`)).toBe(true);
    expect(res.excerpt).toHaveLength(200);
    expect(res.excerpt).not.toContain('header-value');
  });
});
