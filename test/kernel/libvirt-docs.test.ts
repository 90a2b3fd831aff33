// docs/operations.md "vnetfw with libvirt", step by step, against the real libvirtd 9.0 (Debian 12)
// in namespaces of its own (test/support/libvirtd.ts), from a fresh state directory: libvirt runs its
// `default` network with its own NAT firewall and no hook; the steps turn it into an open network
// in libvirt with vnetfw's NAT on the same bridge. Each command is the one the section shows (the
// hook installed into libvirt's default directory, as seen by the daemon).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canon, casesDir, cliBuilt, cliPath, field, inNs, IP, libvirtdSkipReason, logRecords, mentions, must, netnsSkipReason, nsDelAll,
  reference, startLibvirtd, statusOf, topoAttach, topoUp, vnet, waitFor, writeConf, type Libvirtd,
} from '../support/index.js';

const skip = netnsSkipReason ?? libvirtdSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');

describe.skipIf(skip !== undefined)(`docs: vnetfw with libvirt, from zero${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  const tmp = skip === undefined ? mkdtempSync(join(tmpdir(), 'vnetfw-lvdocs-')) : '';
  let lvd: Libvirtd | undefined;
  afterAll(async () => {
    await lvd?.cleanup();
    await nsDelAll();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('the steps give an open network in libvirt and vnetfw\'s NAT on its bridge, started and stopped by libvirt', async () => {
    const ref = await reference('nat-default');
    const t = await topoUp('lvdoc');
    const l = await startLibvirtd(t.H, join(tmp, 'libvirtd'));
    lvd = l;
    const st = join(tmp, 'state');
    const conf = join(tmp, 'network.conf');
    const env = { ...process.env };
    delete env.VNETFW_STATE_DIR;
    delete env.VNETFW_CONFIG;
    const vnetfwInside = (args: string[]): ReturnType<Libvirtd['inside']> => l.inside([process.execPath, cliPath, '--state-dir', st, '--config', conf, ...args], env);
    // Before: libvirt's persistent `default` network, started, with libvirt's own firewall.
    await must(l.virsh(['net-define', join(casesDir, 'nat-default.xml')]), 'net-define');
    await must(l.virsh(['net-start', 'default']), 'net-start');
    expect(mentions(await canon(t.H, 'iptables'), 'virbr0').length).toBeGreaterThan(0);

    // 1. Make libvirt's network open.
    const dumped = await must(l.virsh(['net-dumpxml', '--inactive', 'default']), 'net-dumpxml');
    const libvirtXml = join(tmp, 'default-libvirt.xml');
    const vnetfwXml = join(tmp, 'default-vnetfw.xml');
    writeFileSync(libvirtXml, dumped.stdout);
    writeFileSync(vnetfwXml, dumped.stdout);
    writeFileSync(libvirtXml, readFileSync(libvirtXml, 'utf8').replace(/<forward[^>]*\/>|<forward[\s\S]*?<\/forward>/, "<forward mode='open'/>"));
    expect(readFileSync(libvirtXml, 'utf8')).toContain("<forward mode='open'/>");
    await must(l.virsh(['net-define', libvirtXml]), 'net-define open');

    // 2. Define the network in vnetfw.
    writeConf(conf, 'nftables');
    const defined = await vnet(t.H, st, conf, ['define', vnetfwXml]);
    expect(defined.stderr).toBe('');
    expect(defined.code).toBe(0);

    // 3. Install the hook into libvirt's default directory; libvirtd ran no hook before.
    const inst = await vnetfwInside(['libvirt', 'hook', 'install']);
    expect(inst.stderr).toBe('');
    expect(inst.stdout).toBe('installed /etc/libvirt/hooks/network.d/vnetfw\n'
      + 'libvirtd calls network hooks only if it found some when it started: restart it (guests keep running),\n'
      + 'e.g. `systemctl restart libvirtd` (or virtnetworkd where the daemons are split), or send it SIGHUP.\n');
    expect(readFileSync(join(l.hookDir, 'vnetfw'), 'utf8')).toContain(st);
    await l.restart();

    // 4. Restart the network in libvirt.
    await must(l.virsh(['net-destroy', 'default']), 'net-destroy');
    await must(l.virsh(['net-start', 'default']), 'net-start (open)');
    expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'nftables', bridge: 'virbr0', bridgeCreated: false });
    const calls = (await logRecords(st)).filter((r) => r.type === 'libvirt.hook').map((r) => [field(r, 'libvirtOp'), field(r, 'action')]);
    expect(calls).toEqual([['stopped', 'stop'], ['started', 'start']]);
    const shown = await vnet(t.H, st, conf, ['log', '--type', 'libvirt.hook']);
    expect(shown.stdout.split('\n').filter((line) => / default +libvirt\.hook /.test(line)).map((line) => line.replace(/^.* libvirt\.hook +/, '')))
      .toEqual(['libvirt: stopped end -> stop', 'libvirt: started begin -> start']);
    expect(mentions(await canon(t.H, 'iptables'), 'virbr0')).toEqual([]);   // libvirt's own rules went with net-destroy
    expect(await canon(t.H, 'nftables')).toBe(ref.full.nftables);
    // libvirt's dnsmasq serves the network (its pid file in libvirt's /run).
    const pid = Number(readFileSync(join(l.dir, 'run', 'libvirt', 'network', 'default.pid'), 'utf8').trim());
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('dnsmasq');
    await topoAttach(t, 'virbr0');
    await waitFor(() => inNs(t.G, ['ping', '-c', '1', '-W', '1', '10.200.0.2']), 20_000, 'the guest to reach the wan through vnetfw\'s NAT');

    // From then on: libvirt stops it.
    await must(l.virsh(['net-destroy', 'default']), 'net-destroy (open)');
    expect(await statusOf(st, 'default')).toMatchObject({ state: 'stopped' });
    expect(mentions(await canon(t.H, 'nftables'), 'virbr0')).toEqual([]);
    expect((await inNs(t.H, [IP, 'link', 'show', 'virbr0'])).code).not.toBe(0);   // libvirt's bridge, removed by libvirt
  });
});
