// vnetfw as libvirt's network hook, without root: what it reads from libvirt's hookData, the hook
// executable it installs (run for real with a stand-in program), and the engine's start/stop on
// the fake kernel with libvirt's bridge in place.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngineWorlds, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { defineNetwork, runLibvirtHook } from '../../../src/engine/index.js';
import { actionOf, hookNetwork, installHook, uninstallHook } from '../../../src/libvirt/index.js';

const casesDir = fileURLToPath(new URL('../../fixtures/cases/', import.meta.url));
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'vnetfw-hook-')); dirs.push(d); return d; };

// What libvirt's networkRunHook writes to stdin: <hookData> around the live <network>.
const hookData = (forward: string, bridge = 'virbr0'): string => `<hookData>
  <network>
    <name>default</name>
    <uuid>8039e68f-3cf9-4508-9a98-c84de3874a40</uuid>
    ${forward}
    <bridge name='${bridge}' stp='on' delay='0'/>
    <mac address='52:54:00:d3:07:5c'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp>
        <range start='192.168.122.2' end='192.168.122.254'/>
      </dhcp>
    </ip>
  </network>
</hookData>`;

describe('libvirt hook: arguments and stdin', () => {
  it('started starts, stopped stops, every other operation does nothing', () => {
    expect(['start', 'started', 'stopped', 'port-created', 'port-deleted', 'updated'].map(actionOf)).toEqual(['none', 'start', 'stop', 'none', 'none', 'none']);
  });
  it('reads the bridge and the forward mode (a <forward> without mode is nat, as in libvirt)', () => {
    expect(hookNetwork(hookData("<forward mode='open'/>"))).toEqual({ bridge: 'virbr0', forwardMode: 'open' });
    expect(hookNetwork(hookData('<forward>\n      <nat/>\n    </forward>', 'br9'))).toEqual({ bridge: 'br9', forwardMode: 'nat' });
    expect(hookNetwork(hookData(''))).toEqual({ bridge: 'virbr0' });
    expect(hookNetwork('')).toEqual({});
  });
});

describe('libvirt hook: install and uninstall', () => {
  it('writes an executable that runs vnetfw with the given state dir and config and libvirt\'s arguments', async () => {
    const d = tmp();
    const dir = join(d, 'hooks', 'network.d');
    // A stand-in for node that prints its arguments, one per line.
    const echo = join(d, 'echo args');
    writeFileSync(echo, '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n');
    chmodSync(echo, 0o755);
    const r = await installHook(dir, { node: echo, script: "/opt/v'fw/bin/vnetfw.js", stateDir: '/var/lib/vnetfw', configPath: '/etc/vnetfw/network.conf' });
    expect(r).toEqual({ file: join(dir, 'vnetfw'), replaced: false, needsDaemonRestart: true });
    expect(statSync(r.file).mode & 0o777).toBe(0o755);
    const out = spawnSync(r.file, ['-x', 'started', 'begin', '-'], { encoding: 'utf8', env: {} });
    expect(out.status).toBe(0);
    expect(out.stdout.split('\n').filter((l) => l !== '')).toEqual([
      "/opt/v'fw/bin/vnetfw.js", '--state-dir', '/var/lib/vnetfw', '--config', '/etc/vnetfw/network.conf', 'libvirt', 'hook', '--', '-x', 'started', 'begin', '-',
    ]);
    expect((await installHook(dir, { node: echo, script: 's', stateDir: 'a', configPath: 'b' })).replaced).toBe(true);
    expect(await uninstallHook(dir)).toEqual({ file: r.file, removed: true });
    expect(await uninstallHook(dir)).toEqual({ file: r.file, removed: false });
  });

  it('says libvirtd needs a restart only when it had no network hook to run before', async () => {
    const dir = join(tmp(), 'network.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'other'), '#!/bin/sh\n');
    chmodSync(join(dir, 'other'), 0o755);
    expect((await installHook(dir, { node: 'n', script: 's', stateDir: 'a', configPath: 'b' })).needsDaemonRestart).toBe(false);
  });

  it('leaves a file of the same name it did not write alone (exit 2)', async () => {
    const dir = join(tmp(), 'network.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'vnetfw'), '#!/bin/sh\necho mine\n');
    await expect(installHook(dir, { node: 'n', script: 's', stateDir: 'a', configPath: 'b' })).rejects.toMatchObject({ exitCode: 2 });
    await expect(uninstallHook(dir)).rejects.toMatchObject({ exitCode: 2 });
    expect(readFileSync(join(dir, 'vnetfw'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
  });
});

describe('libvirt hook: the firewall follows libvirt (fake kernel)', () => {
  afterEach(closeEngineWorlds);
  const world = async (): Promise<EngineWorld> => {
    const w = await engineWorld({ sysctl: '0' });
    const { env, fake } = w;
    await defineNetwork(env.journal, join(casesDir, 'nat-default.xml'));
    // libvirt created the bridge before it runs the `started` hook.
    await fake.run({ argv: ['ip', 'link', 'add', 'virbr0', 'type', 'bridge'] });
    return w;
  };

  it('started: the rules on libvirt\'s bridge (not created by vnetfw); stopped: rules gone, the bridge left to libvirt', async () => {
    const w = await world();
    const r = await runLibvirtHook(w.env, 'default', 'started', 'begin', 'start', hookNetwork(hookData("<forward mode='open'/>")));
    expect(r).toEqual({ action: 'start', done: 'started on nftables' });
    expect(w.store.state().networks.default).toMatchObject({ state: 'active', bridgeCreated: false });
    expect(w.fake.dump()).toContain('masquerade');
    await runLibvirtHook(w.env, 'default', 'stopped', 'end', 'stop', hookNetwork(hookData("<forward mode='open'/>")));
    expect(w.store.state().networks.default).toMatchObject({ state: 'stopped' });
    expect(w.fake.dump()).not.toContain('masquerade');
    expect(w.fake.calls.some((c) => c.req.argv.join(' ').includes('link del'))).toBe(false);
    const hooks: unknown[] = [];
    for await (const rec of w.store.records()) if (rec.type === 'libvirt.hook') hooks.push(rec.data);
    expect(hooks).toEqual([{ libvirtOp: 'started', libvirtSubop: 'begin', action: 'start' }, { libvirtOp: 'stopped', libvirtSubop: 'end', action: 'stop' }]);
  });

  it('refuses (exit 1: libvirt fails the start) another bridge, or a network libvirt runs with its own firewall', async () => {
    const w = await world();
    const before = w.fake.dump();
    await expect(runLibvirtHook(w.env, 'default', 'started', 'begin', 'start', hookNetwork(hookData("<forward mode='open'/>", 'virbr9'))))
      .rejects.toMatchObject({ exitCode: 1, message: "network 'default': libvirt runs it on bridge 'virbr9', vnetfw's definition says 'virbr0'" });
    await expect(runLibvirtHook(w.env, 'default', 'started', 'begin', 'start', hookNetwork(hookData("<forward mode='nat'/>"))))
      .rejects.toMatchObject({ exitCode: 1 });
    expect(w.fake.dump()).toBe(before);
    expect(w.store.state().networks.default).toMatchObject({ state: 'stopped' });
  });
});
