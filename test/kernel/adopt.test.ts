// Taking over a network libvirt started: libvirt's own commands are replayed in a namespace (with
// `nft -ae` as libvirt runs them, keeping the handles nft echoes), a libvirt status file is written
// the way libvirt writes it (libvirt >= 10.4's fwRemoval) from those handles, and `vnetfw adopt` takes it over. Then
// verify is clean, a live switch to the other backend gives libvirt's ruleset, and stop removes
// every rule of the network (libvirt's private set-up stays, as libvirt leaves it).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canon, casesDir, cliBuilt, cliPath, dumpAll, inNs, IP, libvirtCommands, logRecords, mentions, must, netnsSkipReason, nsDelAll, nsNew,
  reference, replay, run, statusOf, vnet, vnetRO, writeConf, type Backend, type Reference,
} from '../support/index.js';

const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');
const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// libvirt's commands for the case, run one by one; returns the fwRemoval items (argv without the
// program, newest first) and each item's layer, as libvirt saves them.
const applyAsLibvirt = async (ns: string, be: Backend): Promise<Array<{ layer: string; args: string[] }>> => {
  const items: Array<{ layer: string; args: string[] }> = [];
  for (const cmd of libvirtCommands(readFileSync(join(casesDir, `nat-default-linux.${be}`), 'utf8'))) {
    const r = await must(inNs(ns, ['sh', '-c', cmd]), cmd);
    const words = cmd.split(/\s+/);
    if (be === 'nftables') {
      const handle = /# handle (\d+)/.exec(r.stdout)?.[1];
      if (handle === undefined) throw new Error(`no handle echoed for ${cmd}`);
      // nft -ae insert rule FAM libvirt_network CHAIN ...
      const [fam, table, chain] = [words[4] ?? '', words[5] ?? '', words[6] ?? ''];
      items.unshift({ layer: fam === 'ip6' ? 'ipv6' : 'ipv4', args: ['delete', 'rule', fam, table, chain, 'handle', handle] });
    } else {
      const args = words.slice(2).map((w) => (w === '--insert' ? '--delete' : w.replace(/^'(.*)'$/, '$1')));
      items.unshift({ layer: words[0] === 'ip6tables' ? 'ipv6' : 'ipv4', args });
    }
  }
  return items;
};

// The newest libvirt's nftables network (after the table with its comment and the base chains):
// a qdisc on the bridge, the tc checksum filter (its explicit rollback is the same with del), then
// the nft rules without the mangle chain. Returns the fwRemoval items, newest first.
const applyAsNewestLibvirt = async (ns: string): Promise<Array<{ layer: string; args: string[] }>> => {
  const items: Array<{ layer: string; args: string[] }> = [];
  // libvirt: qdisc on the bridge, then the tc filter (its explicit rollback is the same with del).
  await must(inNs(ns, ['tc', 'qdisc', 'add', 'dev', 'virbr0', 'root', 'handle', '1:', 'htb', 'default', '2']), 'qdisc');
  const filter = ['filter', 'add', 'dev', 'virbr0', 'prio', '2', 'protocol', 'ip', 'parent', '1:', 'u32', 'match', 'ip', 'dport', '68', 'ffff', 'action', 'csum', 'ip', 'and', 'udp'];
  // Kernels built without act_csum refuse the action; the same u32 filter (device, prio, protocol,
  // parent, kind: what `tc filter del` identifies it by) stands in for it there.
  if ((await inNs(ns, ['tc', ...filter])).code !== 0) await must(inNs(ns, ['tc', ...filter.slice(0, 16), 'classid', '1:2']), 'tc filter');
  items.unshift({ layer: 'tc', args: filter.map((a) => (a === 'add' ? 'del' : a)) });
  for (const cmd of libvirtCommands(readFileSync(join(casesDir, 'nat-default-linux.nftables'), 'utf8')).filter((c) => !c.includes('postroute_mangle'))) {
    const r = await must(inNs(ns, ['sh', '-c', cmd]), cmd);
    const w = cmd.split(/\s+/);
    items.unshift({ layer: 'ipv4', args: ['delete', 'rule', w[4] ?? '', w[5] ?? '', w[6] ?? '', 'handle', /# handle (\d+)/.exec(r.stdout)?.[1] ?? ''] });
  }
  return items;
};

// The host namespace's firewall, read only (iptables-save, ip6tables-save, nft list ruleset).
// A namespace as the newest libvirt (nftables) leaves it: the bridge up, the table with its comment,
// the network's rules and the DHCP checksum tc filter; its status file and a state dir beside it.
const newestLibvirtWorld = async (): Promise<{ ns: string; items: Array<{ layer: string; args: string[] }>; st: string; conf: string; file: string }> => {
  const ns = await nsNew('adopt');
  await must(run([IP, '-n', ns, 'link', 'add', 'virbr0', 'type', 'bridge']), 'bridge');
  await must(run([IP, '-n', ns, 'link', 'set', 'virbr0', 'up']), 'bridge up');
  await must(inNs(ns, ['nft', 'add table ip libvirt_network { comment "libvirt firewall rules; see https://libvirt.org/firewall.html" ; }']), 'table with comment');
  await replay(ns, join(casesDir, 'base.nftables'));
  const items = await applyAsNewestLibvirt(ns);
  const dir = mkdtempSync(join(tmpdir(), 'vnetfw-adopt-'));
  const st = join(dir, 'state');
  const conf = writeConf(join(dir, 'network.conf'), 'nftables');
  const file = join(dir, 'default.xml');
  writeFileSync(file, statusXml('nftables', items));
  return { ns, items, st, conf, file };
};

const hostDump = async (): Promise<string> => {
  const [nft, v4, v6] = await Promise.all([run(['nft', 'list', 'ruleset']), run(['iptables-save']), run(['ip6tables-save'])]);
  return [nft.stdout, v4.stdout, v6.stdout].join('\n===\n').replace(/^# (Generated|Completed).*$/gm, '').replace(/\[\d+:\d+\]/g, '[]')
    .replace(/packets \d+ bytes \d+/g, '');
};

const statusXml = (be: Backend, items: Array<{ layer: string; args: string[] }>): string => {
  const network = readFileSync(join(casesDir, 'nat-default.xml'), 'utf8').trim();
  const actions = items.map((i) => [
    `      <action layer='${i.layer}'>`, '        <args>', ...i.args.map((a) => `          <item>${xmlEscape(a)}</item>`), '        </args>', '      </action>',
  ].join('\n'));
  return ['<networkstatus>', "  <class_id bitmap='0-2'/>", "  <floor sum='0'/>", network,
    `  <firewall name='fwRemoval' backend='${be}'>`, "    <group ignoreErrors='yes'>", ...actions, '    </group>', '  </firewall>', '</networkstatus>', ''].join('\n');
};

describe.skipIf(skip !== undefined)(`adopting a network libvirt runs${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  let ref: Reference;
  beforeAll(async () => { ref = await reference('nat-default'); }, 120_000);
  afterAll(async () => { await nsDelAll(); });

  for (const [be, to] of [['nftables', 'iptables'], ['iptables', 'nftables']] as const) {
    it(`${be}: adopt from libvirt's status file, verify, switch live to ${to}, stop leaves nothing of it`, async () => {
      const ns = await nsNew('adopt');
      await must(run([IP, '-n', ns, 'link', 'add', 'virbr0', 'type', 'bridge']), 'bridge');
      await must(run([IP, '-n', ns, 'link', 'set', 'virbr0', 'up']), 'bridge up');
      await replay(ns, join(casesDir, `base.${be}`));
      const items = await applyAsLibvirt(ns, be);
      expect(await canon(ns, be)).toBe(ref.full[be]);
      const dir = mkdtempSync(join(tmpdir(), 'vnetfw-adopt-'));
      const st = join(dir, 'state');
      const conf = writeConf(join(dir, 'network.conf'), be);
      const file = join(dir, 'default.xml');
      writeFileSync(file, statusXml(be, items));

      const adopted = await vnet(ns, st, conf, ['--json', 'adopt', file]);
      expect(adopted.stderr).toBe('');
      expect(adopted.code).toBe(0);
      expect(JSON.parse(adopted.stdout)).toMatchObject({ name: 'default', backend: be, rules: items.length, inSync: true });
      expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: be, bridge: 'virbr0' });
      expect(await canon(ns, be)).toBe(ref.full[be]);   // adopting ran nothing on the firewall
      expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);

      writeConf(conf, to);
      expect((await vnet(ns, st, conf, ['reconcile'])).code).toBe(0);
      expect(await canon(ns, to)).toBe(ref.full[to]);
      expect(mentions(await canon(ns, be), 'virbr0')).toEqual([]);
      expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: to });

      expect((await vnet(ns, st, conf, ['stop', 'default'])).code).toBe(0);
      expect(await canon(ns, to)).toBe(ref.base[to]);
      expect(await canon(ns, be)).toBe(ref.base[be]);
      expect((await inNs(ns, [IP, 'link', 'show', 'virbr0'])).code).not.toBe(0);
    });
  }

  // An adopt that fails, or dies, leaves the state as it was: the last thing it asks the kernel (is
  // the bridge there?) gets no answer (\`ip\` killed), then vnetfw itself is killed at that moment.
  // Neither leaves a definition or an open operation; the kernel is untouched; adopting again works.
  it('an adopt that fails or is killed at its last query records nothing; the next adopt goes through', async () => {
    const ns = await nsNew('adopt');
    await must(run([IP, '-n', ns, 'link', 'add', 'virbr0', 'type', 'bridge']), 'bridge');
    await replay(ns, join(casesDir, 'base.iptables'));
    const items = await applyAsLibvirt(ns, 'iptables');
    const before = await dumpAll(ns);
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-adopt-'));
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), 'iptables');
    const file = join(dir, 'default.xml');
    writeFileSync(file, statusXml('iptables', items));
    const shims = join(dir, 'killed-ip');
    mkdirSync(shims);
    writeFileSync(join(shims, 'ip'), '#!/bin/sh\nkill -9 $$\n', { mode: 0o755 });
    const failed = await inNs(ns, [process.execPath, cliPath, '--state-dir', st, '--config', conf, 'adopt', file], {
      env: { ...process.env, PATH: `${shims}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    });
    expect(failed.stderr).toBe(`vnetfw: ${file}: network 'default': cannot tell whether its bridge 'virbr0' exists: command failed: ip -j link show dev virbr0 (killed by SIGKILL)\n`);
    expect(failed.code).toBe(1);
    expect((await vnetRO(st, ['--json', 'list'])).stdout).toBe('');
    const killed = await vnet(ns, st, conf, ['adopt', file], { crash: { shimDir: join(dir, 'crash'), counter: join(dir, 'crash-count'), at: 1, when: 'before' } });
    expect(killed.code).not.toBe(0);
    expect(readFileSync(join(dir, 'crash-count.log'), 'utf8')).toBe('1 ip -j link show dev virbr0\n');
    expect((await vnetRO(st, ['--json', 'list'])).stdout).toBe('');
    expect((await logRecords(st)).filter((r) => r.network === 'default')).toEqual([]);
    expect(await dumpAll(ns)).toBe(before);
    const ok = await vnet(ns, st, conf, ['adopt', file]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'iptables' });
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
  });

  // Status files are untrusted: a removal list holding anything but removals of libvirt's own rules
  // of the network is refused before anything runs (adopt used to run it as its consistency check).
  it('removal lists that are not libvirt\'s removals are refused with exit 2; the namespace\'s and the host\'s firewall stay as they were', async () => {
    const hostBefore = await hostDump();
    const ns = await nsNew('adopt');
    await must(run([IP, '-n', ns, 'link', 'add', 'virbr0', 'type', 'bridge']), 'bridge');
    // The namespace's own "host firewall": what the hostile lists would destroy.
    for (const cmd of ['iptables -A INPUT -s 10.9.9.9 -j DROP', 'iptables -P FORWARD DROP', 'nft add table inet hostfw',
      "nft add chain inet hostfw input '{ type filter hook input priority 0; policy accept; }'", 'nft add rule inet hostfw input tcp dport 22 accept']) {
      await must(inNs(ns, ['sh', '-c', cmd]), cmd);
    }
    await replay(ns, join(casesDir, 'base.iptables'));
    await replay(ns, join(casesDir, 'base.nftables'));
    const before = await dumpAll(ns);
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-adopt-'));
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), 'iptables');
    const hostile: Array<[Backend, string[]]> = [
      ['iptables', ['--table', 'filter', '--flush']],
      ['iptables', ['--table', 'filter', '--policy', 'INPUT', 'DROP']],
      ['iptables', ['--table', 'filter', '--delete', 'INPUT', '--source', '10.9.9.9/32', '--jump', 'DROP']],
      ['nftables', ['flush', 'ruleset']],
      ['nftables', ['delete', 'table', 'inet', 'hostfw']],
      ['nftables', ['delete', 'rule', 'inet', 'hostfw', 'input', 'handle', '3']],
    ];
    for (const [be, args] of hostile) {
      const file = join(dir, 'default.xml');
      writeFileSync(file, statusXml(be, [{ layer: 'ipv4', args }]));
      const r = await vnet(ns, st, conf, ['adopt', file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^vnetfw: ${file}: fwRemoval action '${args.join(' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' refused: .*\n$`));
      expect(await dumpAll(ns)).toBe(before);
    }
    const ran = (await logRecords(st)).filter((rec) => rec.type === 'command.intended').map((rec) => JSON.stringify(rec));
    expect(ran.filter((l) => /flush|policy|hostfw|--delete|--check/.test(l))).toEqual([]);
    expect((await vnet(ns, st, conf, ['--json', 'list'])).stdout).toBe('');
    expect(await hostDump()).toBe(hostBefore);
  });

  it('a file that is not a libvirt status file, or is a FIFO, is refused with one line and nothing recorded', async () => {
    const ns = await nsNew('adopt');
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-adopt-'));
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), 'nftables');
    const plain = join(casesDir, 'nat-default.xml');
    const r1 = await vnet(ns, st, conf, ['adopt', plain]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toBe(`vnetfw: ${plain}: not a libvirt network status file (no <networkstatus>)\n`);
    const fifo = join(dir, 'fifo.xml');
    await must(run(['mkfifo', fifo]), 'mkfifo');
    const r2 = await vnet(ns, st, conf, ['adopt', fifo]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(new RegExp(`^vnetfw: ${fifo}: is .*: only a regular file is read\n$`));
    const list = await vnet(ns, st, conf, ['--json', 'list']);
    expect(list.stdout).toBe('');
  });

  // The newest libvirt (nftables): the table has a comment, the DHCP checksum fix is a tc filter on the
  // bridge, and its removal (layer 'tc') is in the list. Switching to iptables removes it with the
  // nft rules (the bridge stays); stop then leaves nothing of the network.
  it('newest libvirt: removal list with a tc action and a commented table: adopted, switched, the tc filter removed, stop leaves nothing', async () => {
    const { ns, items, st, conf, file } = await newestLibvirtWorld();
    expect((await inNs(ns, ['tc', 'filter', 'show', 'dev', 'virbr0'])).stdout).toContain('pref 2 u32');
    const r = await vnet(ns, st, conf, ['--json', 'adopt', file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'default', backend: 'nftables', source: 'fwRemoval', rules: items.length, inSync: true });
    writeConf(conf, 'iptables');
    expect((await vnet(ns, st, conf, ['reconcile'])).code).toBe(0);
    expect((await inNs(ns, ['tc', 'filter', 'show', 'dev', 'virbr0'])).stdout).toBe('');
    expect(mentions(await canon(ns, 'nftables'), 'virbr0')).toEqual([]);
    const tcRuns = (await logRecords(st)).filter((rec) => rec.type === 'command.intended' && JSON.stringify(rec).includes('"argv":["tc","filter","del"'));
    expect(tcRuns).toHaveLength(1);
    expect((await vnet(ns, st, conf, ['stop', 'default'])).code).toBe(0);
    expect(mentions(await canon(ns, 'iptables'), 'virbr0')).toEqual([]);
    expect((await inNs(ns, [IP, 'link', 'show', 'virbr0'])).code).not.toBe(0);
  });

  // The tc filter is part of what verify checks: present, in sync; deleted, drift naming it (exit 3);
  // --repair puts the network on vnetfw's own rules, whose DHCP checksum fix is the nft rule
  // (udp checksum set 0), and libvirt's filter is no longer recorded; stop leaves nothing.
  it('newest libvirt: verify reports the adopted tc filter present, then missing; --repair replaces it with vnetfw\'s checksum rule', async () => {
    const { ns, st, conf, file } = await newestLibvirtWorld();
    expect((await vnet(ns, st, conf, ['adopt', file])).code).toBe(0);
    const clean = await vnet(ns, st, conf, ['verify']);
    expect(clean.stdout).toBe('in sync: the kernel holds exactly what the log records\n');
    expect(clean.code).toBe(0);
    expect((await logRecords(st)).filter((r) => r.type === 'command.intended' && JSON.stringify(r).includes('"argv":["tc","-j","filter","show","dev","virbr0"')).length).toBeGreaterThan(0);

    await must(inNs(ns, ['tc', 'filter', 'del', 'dev', 'virbr0', 'prio', '2', 'protocol', 'ip', 'parent', '1:', 'u32']), 'someone deletes the filter');
    const drift = await vnet(ns, st, conf, ['verify']);
    expect(drift.stdout).toBe('default (nftables): 1 missing, 0 foreign\n'
      + '  - missing: tc filter add dev virbr0 prio 2 protocol ip parent 1: u32 match ip dport 68 ffff action csum ip and udp\n');
    expect(drift.code).toBe(3);

    const repaired = await vnet(ns, st, conf, ['verify', '--repair']);
    expect(repaired.stderr).toBe('');
    expect(repaired.code).toBe(0);
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
    const table = (await inNs(ns, ['nft', 'list', 'chain', 'ip', 'libvirt_network', 'postroute_mangle'])).stdout;
    expect(table).toMatch(/oif "virbr0" udp dport 68 counter packets \d+ bytes \d+ udp checksum set 0/);
    const recorded = JSON.stringify(await statusOf(st, 'default'));
    expect(recorded).not.toContain('"tc"');
    expect((await vnet(ns, st, conf, ['stop', 'default'])).code).toBe(0);
    expect(mentions(await canon(ns, 'nftables'), 'virbr0')).toEqual([]);
  });

  // libvirt 10.3 and older saved no removal list: the rules are derived and looked up one by one.
  it('libvirt <= 10.3: a status file without a removal list whose rules are not all there: adopted, the missing ones named, exit 3', async () => {
    const ns = await nsNew('adopt');
    await must(run([IP, '-n', ns, 'link', 'add', 'virbr0', 'type', 'bridge']), 'bridge');
    await replay(ns, join(casesDir, 'base.iptables'));
    const cmds = libvirtCommands(readFileSync(join(casesDir, 'nat-default-linux.iptables'), 'utf8'));
    const dropped = cmds.filter((c) => c.includes('--destination-port 53'));
    for (const cmd of cmds.filter((c) => !dropped.includes(c))) await must(inNs(ns, ['sh', '-c', cmd]), cmd);
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-adopt-'));
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), 'iptables');
    const old = join(dir, 'default.xml');
    writeFileSync(old, `<networkstatus>\n  <class_id bitmap='0-2'/>\n  <floor sum='0'/>\n${readFileSync(join(casesDir, 'nat-default.xml'), 'utf8')}</networkstatus>\n`);
    const before = await canon(ns, 'iptables');
    const r = await vnet(ns, st, conf, ['--json', 'adopt', old]);
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout) as { source: string; rules: number; missing: string[]; inSync: boolean };
    expect(out).toMatchObject({ source: 'derived', rules: cmds.length - dropped.length, inSync: false });
    // libvirt's own text of each missing rule (program, no -w, --insert).
    expect([...out.missing].sort()).toEqual(dropped.map((c) => c.replace(' -w ', ' ').replace(/ +/g, ' ').replace(/'/g, '')).sort());
    expect(await canon(ns, 'iptables')).toBe(before);
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);   // what was recorded is there
    expect((await vnet(ns, st, conf, ['stop', 'default'])).code).toBe(0);
    expect(mentions(await canon(ns, 'iptables'), 'virbr0')).toEqual([]);
  });
});
