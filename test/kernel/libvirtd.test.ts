// vnetfw beside the real libvirtd 9.0 (Debian 12), run in namespaces of its own (helpers/libvirtd.ts:
// this machine's /etc/libvirt, /run/libvirt and /var/lib/libvirt stay untouched). One daemon for
// the whole file, always stopped (afterAll).
// 1. For each of libvirt's cases, the iptables ruleset libvirt 9.0 builds equals vnetfw's.
// 2. The hook: libvirt runs an open network (bridge, dnsmasq), vnetfw its NAT firewall: net-create
//    gives vnetfw's ruleset and a masqueraded guest; a backend switch through `vnetfw reconcile`
//    keeps the guest's pings and TCP session; restarting libvirtd changes nothing; net-destroy
//    removes vnetfw's rules (libvirt removes its bridge).
// 3. adopt --all of a network libvirt 9.0 started (no removal list), libvirt made to forget it,
//    then a live switch to nftables under guest traffic, then stop: nothing of it left.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bg, canon, casesDir, cliBuilt, cliPath, field, inNs, IP, libvirtdSkipReason, limiter, logRecords, mentions, must, netnsSkipReason, nsDel,
  nsDelAll, nsNew, oracleDir, reference, run, startLibvirtd, statusOf, topoAttach, topoUp, vnet, waitFor, writeConf, type Backend,
  type Libvirtd, type Reference, type Topo,
} from '../support/index.js';

const skip = netnsSkipReason ?? libvirtdSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');
const CASES = ['nat-default', 'nat-tftp', 'nat-no-dhcp', 'nat-ipv6', 'route-default', 'isolated'];
const nameOf = (xmlFile: string): string => /<name>([^<]+)</.exec(readFileSync(xmlFile, 'utf8'))?.[1] ?? '';

// The guest pings the wan every 10 ms and holds a TCP session to its echo server while `act` runs;
// returns what was lost.
const underTraffic = async (t: Topo, tmp: string, act: () => Promise<void>): Promise<{ sent: number; received: number; tcp: string }> => {
  const peers = join(tmp, `peers-${Date.now()}`);
  const echoes = `${peers}.echoes`;
  writeFileSync(peers, ''); writeFileSync(echoes, '');
  // Messages the wan echoed so far: the test waits on traffic, never sleeps.
  const echoed = (): number => statSync(echoes).size;
  const echoedMore = (n: number, what: string): Promise<number> => { const from = echoed(); return waitFor(() => echoed() >= from + n, 15_000, what, 20); };
  const server = bg(['ip', 'netns', 'exec', t.W, 'python3', join(oracleDir, 'echo_server.py'), '7000', peers, echoes]);
  try {
    await waitFor(() => inNs(t.W, ['sh', '-c', 'ss -Hltn | grep -q ":7000 "']), 10_000, 'the echo server');
    const stop = join(tmp, `stop-${Date.now()}`);
    const client = bg(['ip', 'netns', 'exec', t.G, 'python3', join(oracleDir, 'echo_client.py'), '10.200.0.2', '7000', stop]);
    const ping = bg(['ip', 'netns', 'exec', t.G, 'ping', '-q', '-c', '400', '-i', '0.01', '10.200.0.2']);
    await echoedMore(30, 'the TCP session to carry traffic');
    await act();
    // The session goes on over the new rules.
    await echoedMore(20, 'the TCP session to carry traffic after the change');
    const p = await ping.done;
    writeFileSync(stop, '');
    const c = await client.done;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(p.stdout);
    return { sent: Number(m?.[1] ?? NaN), received: Number(m?.[2] ?? NaN), tcp: c.stdout.trim() };
  } finally {
    server.kill();
    await server.done;
  }
};

describe.skipIf(skip !== undefined)(`beside the real libvirtd 9.0${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  const tmp = skip === undefined ? mkdtempSync(join(tmpdir(), 'vnetfw-libvirtd-')) : '';
  const hookState = join(tmp, 'hook-state');
  const hookConf = join(tmp, 'hook.conf');
  let t: Topo;
  let lvd: Libvirtd | undefined;
  let ref: Reference;

  beforeAll(async () => {
    ref = await reference('nat-default');
    t = await topoUp('lvd');
    const dir = join(tmp, 'libvirtd');
    mkdirSync(join(dir, 'etc', 'hooks', 'network.d'), { recursive: true });
    writeConf(hookConf, 'nftables');
    // Installed before the daemon starts: libvirtd looks for network hooks when it starts.
    const inst = await run([process.execPath, cliPath, '--state-dir', hookState, '--config', hookConf, 'libvirt', 'hook', 'install', '--dir', join(dir, 'etc', 'hooks', 'network.d')]);
    expect(inst.code, inst.stderr).toBe(0);
    expect(inst.stdout).toContain('restart it (guests keep running)');
    lvd = await startLibvirtd(t.H, dir);
  }, 120_000);

  afterAll(async () => {
    await lvd?.cleanup();
    await nsDelAll();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('libvirt 9.0 and vnetfw build the same iptables ruleset for each of libvirt\'s cases', async () => {
    const l = lvd as Libvirtd;
    const conf = writeConf(join(tmp, 'identity.conf'), 'iptables');
    const libvirts = new Map<string, string>();
    for (const name of CASES) {
      // dnsmasq refuses a tftp root that does not exist (in the daemon's mount namespace); the rules
      // do not depend on it.
      const xml = join(tmp, `${name}.xml`);
      writeFileSync(xml, readFileSync(join(casesDir, `${name}.xml`), 'utf8').replace("root='/some/dir'", "root='/var/lib/libvirt'"));
      const created = await l.virsh(['net-create', xml]);
      expect(created.code, `${name}: ${created.stderr}`).toBe(0);
      libvirts.set(name, await canon(t.H, 'iptables'));
      expect((await l.virsh(['net-destroy', nameOf(xml)])).code).toBe(0);
    }
    // vnetfw's side: each case in a namespace and state directory of its own, side by side.
    const limit = limiter(3);
    const ours = await Promise.all(CASES.map((name) => limit(async () => {
      const xml = join(tmp, `${name}.xml`);
      const ns = await nsNew('lvdid');
      const st = join(tmp, `identity-${name}`);
      expect((await vnet(ns, st, conf, ['define', xml])).code).toBe(0);
      const started = await vnet(ns, st, conf, ['start', nameOf(xml)]);
      expect(started.code, started.stderr).toBe(0);
      const dump = await canon(ns, 'iptables');
      await nsDel(ns);
      return dump;
    })));
    CASES.forEach((name, i) => expect(ours[i], name).toBe(libvirts.get(name)));
  });

  it('hook: libvirt runs an open network, vnetfw its NAT firewall; switch under traffic; libvirtd restart changes nothing; net-destroy removes it', async () => {
    const l = lvd as Libvirtd;
    const ours = join(tmp, 'hooknet-nat.xml');
    const theirs = join(tmp, 'hooknet-open.xml');
    const nat = readFileSync(join(casesDir, 'nat-default.xml'), 'utf8').replace('<name>default</name>', '<name>hooknet</name>');
    writeFileSync(ours, nat);
    writeFileSync(theirs, nat.replace(/<forward[^>]*\/>|<forward[\s\S]*?<\/forward>/, "<forward mode='open'/>"));
    expect(readFileSync(theirs, 'utf8')).toContain("<forward mode='open'/>");
    const cli = (args: string[]): ReturnType<typeof vnet> => vnet(t.H, hookState, hookConf, args);
    await must(cli(['define', ours]), 'define');

    const created = await l.virsh(['net-create', theirs]);
    expect(created.code, created.stderr).toBe(0);
    expect(await statusOf(hookState, 'hooknet')).toMatchObject({ state: 'active', backend: 'nftables', bridge: 'virbr0', bridgeCreated: false });
    expect(await canon(t.H, 'nftables')).toBe(ref.full.nftables);
    const hookRecs = (await logRecords(hookState)).filter((r) => r.type === 'libvirt.hook');
    expect(hookRecs.map((r) => [r.network, field(r, 'libvirtOp'), field(r, 'action')])).toEqual([['hooknet', 'started', 'start']]);

    await topoAttach(t, 'virbr0');
    await waitFor(() => inNs(t.G, ['ping', '-c', '1', '-W', '1', '10.200.0.2']), 20_000, 'the guest to reach the wan (masqueraded: the wan has no route back)');
    const traffic = await underTraffic(t, tmp, async () => {
      writeConf(hookConf, 'iptables');
      await must(cli(['reconcile']), 'reconcile to iptables');
    });
    expect(traffic.received).toBe(traffic.sent);
    expect(traffic.tcp).toMatch(/ broke=no$/);
    expect(await statusOf(hookState, 'hooknet')).toMatchObject({ state: 'active', backend: 'iptables' });
    expect(mentions(await canon(t.H, 'nftables'), 'virbr0')).toEqual([]);

    const recsBefore = (await logRecords(hookState)).length;
    const ruleset = await canon(t.H, 'all');
    await l.restart();
    expect((await l.virsh(['net-list', '--name'])).stdout).toContain('hooknet');
    expect(await canon(t.H, 'all')).toBe(ruleset);
    expect((await logRecords(hookState)).length).toBe(recsBefore);
    await must(inNs(t.G, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.200.0.2']), 'the guest after the restart');

    expect((await l.virsh(['net-destroy', 'hooknet'])).code).toBe(0);
    expect(await statusOf(hookState, 'hooknet')).toMatchObject({ state: 'stopped' });
    expect(mentions(await canon(t.H, 'iptables'), 'virbr0')).toEqual([]);
    expect(await canon(t.H, 'nftables')).toBe(ref.base.nftables);   // vnetfw's private set-up stays, as libvirt's does
    expect((await inNs(t.H, [IP, 'link', 'show', 'virbr0'])).code).not.toBe(0);
  });

  it('adopt --all of a network libvirt 9.0 started, libvirt made to forget it, live switch to nftables under traffic, stop leaves nothing', async () => {
    const l = lvd as Libvirtd;
    const st = join(tmp, 'adopt-state');
    const conf = writeConf(join(tmp, 'adopt.conf'), 'iptables');
    expect((await l.virsh(['net-create', join(casesDir, 'nat-default.xml')])).code).toBe(0);
    const libvirts = await canon(t.H, 'iptables');
    await topoAttach(t, 'virbr0');
    // A new virbr0 has a new MAC address; the guest still has the previous one's in its ARP cache.
    await must(inNs(t.G, [IP, 'neigh', 'flush', 'all']), 'guest neighbours');
    await waitFor(() => inNs(t.G, ['ping', '-c', '1', '-W', '1', '10.200.0.2']), 20_000, 'the guest to reach the wan');

    // In the daemon's namespaces: `--all` reads its /run/libvirt/network.
    const env = { ...process.env };
    delete env.VNETFW_STATE_DIR;
    delete env.VNETFW_CONFIG;
    const r = await l.inside([process.execPath, cliPath, '--state-dir', st, '--config', conf, '--json', 'adopt', '--all'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ name: 'default', backend: 'iptables', source: 'derived', iptables: 'nf_tables', inSync: true, missing: [], bridgeExisted: true });
    // Every rule libvirt put in its chains was found and recorded.
    expect(out.rules).toBe(libvirts.split('\n').filter((line) => line.startsWith('-A LIBVIRT_')).length);
    expect(await canon(t.H, 'iptables')).toBe(libvirts);
    expect((await vnet(t.H, st, conf, ['verify'])).code).toBe(0);

    // libvirt forgets the network without touching it: daemon stopped, status file removed.
    await l.stop();
    rmSync(l.statusFile('default'));
    await l.restart();
    expect((await l.virsh(['net-list', '--all', '--name'])).stdout.trim()).toBe('');

    const traffic = await underTraffic(t, tmp, async () => {
      writeConf(conf, 'nftables');
      await must(vnet(t.H, st, conf, ['reconcile']), 'reconcile to nftables');
    });
    expect(traffic.received).toBe(traffic.sent);
    expect(traffic.tcp).toMatch(/ broke=no$/);
    expect(await canon(t.H, 'nftables')).toBe(ref.full.nftables);
    expect(mentions(await canon(t.H, 'iptables'), 'virbr0')).toEqual([]);

    expect((await vnet(t.H, st, conf, ['stop', 'default'])).code).toBe(0);
    for (const be of ['nftables', 'iptables'] as Backend[]) expect(mentions(await canon(t.H, be), 'virbr0')).toEqual([]);
    expect((await inNs(t.H, [IP, 'link', 'show', 'virbr0'])).code).not.toBe(0);
  });
});
