// Real kernel, real packets: the indexed nftables layout lets through, rejects and masquerades
// exactly what libvirt's layout does. The same networks and the same probes run once per layout:
//
//   A  nat, forward dev = the wan link, NAT ports 20000-20999, IPv4 + routed IPv6, guests a1, a2
//   B  nat, no forward dev                                                         guest b
//   C  isolated (no <forward>)                                                     guest c
//   D  route                                                                       guest r
//
// The upstreams have routes back to every guest subnet, so only the firewall decides, and the
// peer address an upstream server logs shows whether a connection was masqueraded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attachGuest, cliBuilt, connect, connectEventually, dataplaneUp, inNs, must, netnsSkipReason, netXml, nsDelAll, startServer, uniqueTag, vnet,
  writeConf, type Server,
} from '../support/index.js';

const skipReason = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (run `npm run build`)');
const canRun = skipReason === undefined;

describe.skipIf(!canRun)(`dataplane semantics per layout${canRun ? '' : ` (skipped: ${skipReason ?? ''})`}`, () => {
  const tmp = canRun ? mkdtempSync(join(tmpdir(), 'vnetfw-dataplane-')) : '';
  afterAll(async () => {
    await nsDelAll();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it.each(['libvirt', 'indexed'] as const)('%s layout: masquerade, replies, rejects, isolation, routing, port range, forward dev, IPv6', async (layout) => {
    const p = uniqueTag(`vdp${layout[0] ?? ''}`);
    const d = await dataplaneUp(p, [
      { name: 'a1', v4: '192.168.122.10/24', gw4: '192.168.122.1', v6: '2001:db8:ca2:2::10/64', gw6: '2001:db8:ca2:2::1' },
      { name: 'a2', v4: '192.168.122.11/24', gw4: '192.168.122.1' },
      { name: 'b', v4: '192.168.100.10/24', gw4: '192.168.100.1' },
      { name: 'c', v4: '192.168.150.10/24', gw4: '192.168.150.1' },
      { name: 'r', v4: '192.168.160.10/24', gw4: '192.168.160.1' },
    ]);
    const dir = join(tmp, layout);
    const stateDir = join(dir, 'state');
    const conf = join(tmp, `${layout}.conf`);
    writeConf(conf, 'nftables', `firewall_layout = "${layout}"\n`);
    const cli = (args: string[]): ReturnType<typeof vnet> => vnet(d.H, stateDir, conf, args);
    const nets = {
      A: netXml({ name: 'A', bridge: `${p}a`, forward: 'nat', dev: d.wanDev, ports: [20000, 20999], ips: [
        "<ip address='192.168.122.1' prefix='24'><dhcp><range start='192.168.122.100' end='192.168.122.200'/></dhcp></ip>",
        "<ip family='ipv6' address='2001:db8:ca2:2::1' prefix='64'/>"] }),
      B: netXml({ name: 'B', bridge: `${p}b`, forward: 'nat', ips: ["<ip address='192.168.100.1' prefix='24'/>"] }),
      C: netXml({ name: 'C', bridge: `${p}c`, ips: ["<ip address='192.168.150.1' prefix='24'/>"] }),
      D: netXml({ name: 'D', bridge: `${p}d`, forward: 'route', ips: ["<ip address='192.168.160.1' prefix='24'/>"] }),
    };
    rmSync(dir, { recursive: true, force: true });
    for (const [name, xml] of Object.entries(nets)) {
      writeFileSync(join(tmp, `${layout}-${name}.xml`), xml);
      await must(cli(['define', join(tmp, `${layout}-${name}.xml`)]), `define ${name}`);
    }
    await must(cli(['start', 'A', 'B', 'C', 'D']), 'start');
    for (const [g, br] of [['a1', 'a'], ['a2', 'a'], ['b', 'b'], ['c', 'c'], ['r', 'd']] as const) await attachGuest(d, g, `${p}${br}`);
    const g = (n: string): string => d.guests.get(n) ?? '';

    // Which tables filter: the indexed layout's table alone, or libvirt's alone.
    const tables = (await inNs(d.H, ['nft', 'list', 'tables'])).stdout;
    if (layout === 'indexed') {
      expect(tables).toContain('table inet vnetfw');
      expect(tables).not.toContain('libvirt_network');
    } else {
      expect(tables).not.toContain('vnetfw');
    }

    const servers: Server[] = [];
    try {
      for (const ns of [d.W, d.W2, g('a1'), g('a2'), g('b'), g('c'), g('r')]) servers.push(await startServer(dir, ns));
      const [wan, wan2] = servers;
      // Guest -> outside: masqueraded behind the host's wan address, from the configured port range.
      expect(await connectEventually(g('a1'), '10.200.0.2')).toBe('ok');
      const [addr, port] = (wan?.peers()[0] ?? '').split(' ');
      expect(addr).toBe('10.200.0.1');
      expect(Number(port)).toBeGreaterThanOrEqual(20000);
      expect(Number(port)).toBeLessThanOrEqual(20999);
      // New connections from outside to a NAT guest are rejected (replies above were let in).
      expect(await connect(d.W, '192.168.122.10')).toBe('refused');
      // Forward dev: A may leave only through the wan link; B through any.
      expect(await connect(g('a1'), '10.201.0.2')).toBe('refused');
      expect(await connectEventually(g('b'), '10.201.0.2')).toBe('ok');
      expect(wan2?.peers()).toEqual([expect.stringMatching(/^10\.201\.0\.1 \d+$/)]);
      // Guests of one network reach each other; guests of two networks do not.
      expect(await connectEventually(g('a1'), '192.168.122.11')).toBe('ok');
      expect(await connect(g('a1'), '192.168.100.10')).toBe('refused');
      expect(await connect(g('b'), '192.168.122.10')).toBe('refused');
      // Isolated stays isolated, both ways.
      expect(await connect(g('c'), '10.200.0.2')).toBe('refused');
      expect(await connect(d.W, '192.168.150.10')).toBe('refused');
      // Routed: out unmasqueraded, and reachable from outside.
      expect(await connectEventually(g('r'), '10.200.0.2')).toBe('ok');
      expect(wan?.peers().at(-1)).toMatch(/^192\.168\.160\.10 \d+$/);
      expect(await connect(d.W, '192.168.160.10')).toBe('ok');
      // IPv6 of the NAT network is routed (libvirt's default): out unmasqueraded, in accepted.
      expect(await connectEventually(g('a1'), '2001:db8:200::2')).toBe('ok');
      expect(wan?.peers().at(-1)).toMatch(/^2001:db8:ca2:2::10 \d+$/);
      expect(await connect(d.W, '2001:db8:ca2:2::10')).toBe('ok');
      // A routed guest cannot open a connection into a NAT network either.
      expect(await connect(g('r'), '192.168.122.10')).toBe('refused');
      if (layout === 'indexed') {
        // Drift: someone flushes a network's chain (its guests are then unfiltered). verify sees
        // it, --repair puts it back in one transaction, and the filtering is back.
        await must(inNs(d.H, ['nft', 'flush', 'chain', 'inet', 'vnetfw', 'net_A']), 'flush net_A');
        expect(await connect(d.W, '192.168.122.10')).toBe('ok');
        const v = await cli(['verify']);
        expect(v.code, v.stdout + v.stderr).toBe(3);
        expect(v.stdout + v.stderr).toContain('net_A');
        await must(cli(['verify', '--repair']), 'verify --repair');
        expect((await cli(['verify'])).code).toBe(0);
        expect(await connect(d.W, '192.168.122.10')).toBe('refused');
      }
    } finally {
      for (const s of servers) await s.stop();
    }

    await must(cli(['stop', 'A', 'B', 'C', 'D']), 'stop');
    if (layout === 'indexed') {
      // Stopping took every network's chains and elements; the dispatch alone stays.
      const left = (await inNs(d.H, ['nft', 'list', 'table', 'inet', 'vnetfw'])).stdout;
      expect(left).not.toMatch(/net_|nat_|jump/);
      expect(left).toContain('oifname vmap @to_guest');
    }
  }, 120_000);
});
