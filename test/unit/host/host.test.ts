import { mkdir, mkdtemp, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NetworkDef } from '../../../src/definition/types.js';
import {
  bridgeCreateCommands, bridgeDeleteCommands, bridgeExistsQuery, createSysctl, forwardingSysctls, ipv4Broadcast, parseLinkShow,
} from '../../../src/host/index.js';

const def = (over: Partial<NetworkDef> = {}): NetworkDef => ({
  name: 'default',
  bridge: { name: 'virbr0', stp: true, delay: 0 },
  forward: { mode: 'nat' },
  ipv6: false,
  ips: [{ family: 'ipv4', address: '192.168.122.1', prefix: 24, dhcpRanges: [], dhcpHosts: [] }],
  ...over,
});

describe('bridge commands', () => {
  it('queries a bridge as JSON', () => {
    expect(bridgeExistsQuery('virbr0')).toEqual(['ip', '-j', 'link', 'show', 'dev', 'virbr0']);
  });

  it('creates the default network bridge', () => {
    expect(bridgeCreateCommands(def())).toEqual([
      ['ip', 'link', 'add', 'virbr0', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '0'],
      ['ip', 'addr', 'add', '192.168.122.1/24', 'broadcast', '192.168.122.255', 'dev', 'virbr0'],
      ['ip', 'link', 'set', 'dev', 'virbr0', 'up'],
    ]);
  });

  it('sets MAC, MTU, STP off, delay in centiseconds and IPv6 addresses without DAD', () => {
    expect(bridgeCreateCommands(def({
      bridge: { name: 'virbr9', stp: false, delay: 2 },
      mac: '52:54:00:0a:0b:0c',
      mtu: 9000,
      ips: [
        { family: 'ipv4', address: '10.0.0.1', prefix: 8, dhcpRanges: [], dhcpHosts: [] },
        { family: 'ipv6', address: 'fd00:1::1', prefix: 64, dhcpRanges: [], dhcpHosts: [] },
        { family: 'ipv4', address: '10.9.9.9', prefix: 32, dhcpRanges: [], dhcpHosts: [] },
      ],
    }))).toEqual([
      ['ip', 'link', 'add', 'virbr9', 'address', '52:54:00:0a:0b:0c', 'mtu', '9000', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '200'],
      ['ip', 'addr', 'add', '10.0.0.1/8', 'broadcast', '10.255.255.255', 'dev', 'virbr9'],
      ['ip', 'addr', 'add', 'fd00:1::1/64', 'dev', 'virbr9', 'nodad'],
      ['ip', 'addr', 'add', '10.9.9.9/32', 'dev', 'virbr9'],
      ['ip', 'link', 'set', 'dev', 'virbr9', 'up'],
    ]);
  });

  it('deletes a bridge: down, then del', () => {
    expect(bridgeDeleteCommands('virbr0')).toEqual([
      ['ip', 'link', 'set', 'dev', 'virbr0', 'down'],
      ['ip', 'link', 'del', 'dev', 'virbr0'],
    ]);
  });

  it.each([
    ['192.168.122.1', 24, '192.168.122.255'], ['10.1.2.3', 16, '10.1.255.255'], ['172.16.0.1', 12, '172.31.255.255'],
    ['10.0.0.0', 31, null], ['10.0.0.0', 0, '255.255.255.255'], ['bad', 24, null],
  ])('broadcast of %s/%i is %s', (a, p, b) => expect(ipv4Broadcast(a, p)).toBe(b));

  it('parses ip -j link show', () => {
    const out = '[{"ifindex":2,"ifname":"virbr0","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],"mtu":9000,"address":"52:54:00:aa:bb:cc"}]\n';
    expect(parseLinkShow(out)).toEqual({ name: 'virbr0', mtu: 9000, address: '52:54:00:aa:bb:cc', up: true });
    expect(parseLinkShow('')).toBeNull();
    expect(parseLinkShow('[]')).toBeNull();
  });
});

describe('forwarding', () => {
  const v6 = { family: 'ipv6' as const, address: 'fd00::1', prefix: 64, dhcpRanges: [], dhcpHosts: [] };
  it.each([
    ['nat, IPv4 only', def(), ['net/ipv4/ip_forward']],
    ['route, IPv4 and IPv6', def({ forward: { mode: 'route' }, ips: [...def().ips, v6] }), ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding']],
    ['nat, IPv6 only', def({ ips: [v6] }), ['net/ipv6/conf/all/forwarding']],
    ['isolated', def({ forward: { mode: 'none' }, ips: [...def().ips, v6] }), []],
  ])('%s', (_name, d, keys) => {
    expect(forwardingSysctls(d)).toEqual(keys.map((key) => ({ key, value: '1' })));
  });
});

describe('createSysctl', () => {
  it('reads, writes only on change, and returns the previous value', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vnetfw-sysctl-'));
    await mkdir(join(root, 'net/ipv4'), { recursive: true });
    await writeFile(join(root, 'net/ipv4/ip_forward'), '0\n');
    const s = createSysctl(root);
    expect(await s.read('net/ipv4/ip_forward')).toBe('0');
    expect(await s.read('net/ipv6/conf/all/forwarding')).toBeUndefined();
    expect(await s.write('net/ipv4/ip_forward', '1')).toBe('0');
    expect(await readFile(join(root, 'net/ipv4/ip_forward'), 'utf8')).toBe('1\n');
    // Unchanged value: the file is not written (its mtime stays).
    const file = join(root, 'net/ipv4/ip_forward');
    await utimes(file, 1000, 1000);
    expect(await s.write('net/ipv4/ip_forward', '1')).toBe('1');
    expect((await stat(file)).mtimeMs).toBe(1_000_000);
    await expect(s.write('net/ipv6/conf/all/forwarding', '1')).rejects.toThrow(/does not exist/);
    await expect(s.read('../etc/passwd')).rejects.toThrow(/invalid sysctl key/);
  });
});
