// Real kernel: the bridges of one `start` of several networks go in one `ip -batch -`.
// - ip stops at a line the kernel refuses (here: an IPv6 address on a namespace whose new devices
//   have IPv6 disabled): the networks before it start, the failing one is left as it was (its
//   half-made bridge deleted), the ones after it start from a second batch.
// - vnetfw SIGKILLed right before or right after that batch: the same `start` again recovers and
//   leaves the ruleset and the bridges an uninterrupted start leaves.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canon, cliBuilt, field, IP, inNs, logRecords, makeCrashShims, must, netnsSkipReason, nsDelAll, nsNew, statusOf, vnet, writeConf, type Crash,
} from '../support/index.js';

const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');

// Network i: a NAT network on vbb<i>, 10.77.<i>.1/24, with an IPv6 address when asked.
const xml = (i: number, v6: boolean): string => `<network>
  <name>m${i}</name>
  <bridge name="vbb${i}"/>
  <forward/>
  <ip address="10.77.${i}.1" netmask="255.255.255.0"/>
${v6 ? `  <ip family="ipv6" address="fd77:${i}::1" prefix="64"/>\n` : ''}</network>
`;

interface Link { ifname: string; flags: string[]; addr_info: Array<{ local: string; prefixlen: number }> }
const bridges = async (ns: string): Promise<Map<string, string>> => {
  const r = await must(inNs(ns, [IP, '-j', 'addr', 'show']), 'ip addr');
  const out = new Map<string, string>();
  for (const l of JSON.parse(r.stdout) as Link[]) {
    if (!l.ifname.startsWith('vbb')) continue;
    out.set(l.ifname, `${l.flags.includes('UP') ? 'up' : 'down'} ${l.addr_info.map((a) => `${a.local}/${a.prefixlen}`).join(' ')}`);
  }
  return out;
};

describe.skipIf(skip !== undefined)(`bridges of many networks in one ip -batch${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  let root = '';
  let shimDir = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'vnetfw-bridges-'));
    shimDir = makeCrashShims(join(root, 'shims'));
  });
  afterAll(async () => {
    await nsDelAll();
    rmSync(root, { recursive: true, force: true });
  });

  const setUp = async (tag: string, v6: readonly boolean[]): Promise<{ ns: string; st: string; conf: string }> => {
    const ns = await nsNew('brb');
    const st = join(root, tag);
    const conf = writeConf(join(root, `${tag}.conf`), 'nftables');
    const files = v6.map((six, k) => {
      const f = join(root, `${tag}-m${k + 1}.xml`);
      writeFileSync(f, xml(k + 1, six));
      return f;
    });
    await must(vnet(ns, st, conf, ['define', ...files]), 'define');
    return { ns, st, conf };
  };

  it('stop of three: their bridges go in one group deletion; bridges that are not ours stay, in their groups', async () => {
    const { ns, st, conf } = await setUp('group', [false, true, false]);
    await must(vnet(ns, st, conf, ['start', 'm1', 'm2', 'm3']), 'start');
    for (const [name, group] of [['vbbx1', '5'], ['vbbx2', 'default']] as const) {
      await must(inNs(ns, [IP, 'link', 'add', name, 'type', 'bridge']), 'foreign bridge');
      await must(inNs(ns, [IP, 'link', 'set', 'dev', name, 'group', group]), 'foreign group');
    }

    await must(vnet(ns, st, conf, ['stop', 'm1', 'm2', 'm3']), 'stop');

    expect([...(await bridges(ns)).keys()].sort()).toEqual(['vbbx1', 'vbbx2']);
    const groups = JSON.parse((await must(inNs(ns, [IP, '-j', 'link', 'show']), 'ip link')).stdout) as Array<{ ifname: string; group: string }>;
    expect(groups.filter((l) => l.ifname.startsWith('vbbx')).map((l) => `${l.ifname} ${l.group}`).sort()).toEqual(['vbbx1 5', 'vbbx2 default']);
    for (const n of ['m1', 'm2', 'm3']) expect(await statusOf(st, n)).toMatchObject({ state: 'stopped', inFlight: null, bridgeCreated: false });
    const log = await logRecords(st);
    const op = log.filter((x) => x.type === 'operation.started').pop()?.op;
    const batch = log.find((x) => x.type === 'command.intended' && x.op === op && (field(x, 'argv') as string[]).join(' ') === 'ip -force -batch -');
    expect(batch).toBeDefined();
    expect(String(batch === undefined ? '' : field(batch, 'stdin'))).toMatch(/^link set dev vbb1 down\nlink set dev vbb1 group (\d+)\n(?:.*\n)*link del group \1\n$/);
  });

  it('ip stops at the second network\'s IPv6 address: the first and third start, the second is left as it was', async () => {
    const { ns, st, conf } = await setUp('v6off', [false, true, false]);
    await must(inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']), 'sysctl');
    const r = await vnet(ns, st, conf, ['start', 'm1', 'm2', 'm3']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^vnetfw: m2: /m);
    expect(r.stderr).not.toMatch(/m[13]: /);
    expect(await bridges(ns)).toEqual(new Map([['vbb1', 'up 10.77.1.1/24'], ['vbb3', 'up 10.77.3.1/24']]));
    expect(await statusOf(st, 'm1')).toMatchObject({ state: 'active', inFlight: null });
    expect(await statusOf(st, 'm2')).toMatchObject({ state: 'stopped', inFlight: null });
    expect(await statusOf(st, 'm3')).toMatchObject({ state: 'active', inFlight: null });
    // The start's ip runs: one read of the links, the batch of all three (stopped at m2's IPv6
    // address), m2's bridge removed, m3's bridge in a second batch; m2's rollback finds no bridge.
    const log = await logRecords(st);
    const op = log.find((x) => x.type === 'operation.started')?.op;
    const ipRuns = log.filter((x) => x.type === 'command.intended' && x.op === op && (field(x, 'argv') as string[])[0] === 'ip')
      .map((x) => `${(field(x, 'argv') as string[]).join(' ')}${field(x, 'stdin') === undefined ? '' : ` <${String(field(x, 'stdin')).match(/^link add \S+/gm)?.join(', ')}>`}`);
    expect(ipRuns).toEqual([
      'ip -j link show',
      'ip -batch - <link add vbb1, link add vbb2, link add vbb3>',
      'ip link set dev vbb2 down',
      'ip link del dev vbb2',
      'ip -batch - <link add vbb3>',
      'ip -j link show dev vbb2',
    ]);
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
    await must(vnet(ns, st, conf, ['stop', 'm1', 'm3']), 'stop');
    expect(await bridges(ns)).toEqual(new Map());
  });

  for (const when of ['before', 'after'] as const) {
    it(`SIGKILL ${when} the bridges' batch; start again: what an uninterrupted start leaves`, async () => {
      const clean = await setUp(`clean-${when}`, [false, true, false]);
      await must(vnet(clean.ns, clean.st, clean.conf, ['start', 'm1', 'm2', 'm3']), 'uninterrupted start');
      const { ns, st, conf } = await setUp(`crash-${when}`, [false, true, false]);
      // Call 1 is the read of the links, call 2 the batch.
      const crash: Crash = { shimDir, counter: join(root, `crash-${when}.count`), at: 2, when };
      const killed = await vnet(ns, st, conf, ['start', 'm1', 'm2', 'm3'], { crash });
      expect(killed.signal).toBe('SIGKILL');
      expect((await bridges(ns)).size).toBe(when === 'after' ? 3 : 0);
      const again = await vnet(ns, st, conf, ['start', 'm1', 'm2', 'm3']);
      expect(again.code, again.stderr).toBe(0);
      for (const m of ['m1', 'm2', 'm3']) expect(await statusOf(st, m)).toMatchObject({ state: 'active', backend: 'nftables', inFlight: null, bridgeCreated: true });
      expect(await bridges(ns)).toEqual(await bridges(clean.ns));
      expect(await canon(ns, 'all')).toBe(await canon(clean.ns, 'all'));
      expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
      await must(vnet(ns, st, conf, ['stop', 'm1', 'm2', 'm3']), 'stop');
      expect(await bridges(ns)).toEqual(new Map());
    });
  }
});
