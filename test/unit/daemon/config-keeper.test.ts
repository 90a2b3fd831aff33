// The daemon's view of network.conf: an invalid file keeps the last good configuration in use, its
// error is new once (for the log) and repeated while it lasts; a fixed file is reported once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createConfigKeeper } from '../../../src/daemon/config-keeper.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('createConfigKeeper', () => {
  it('keeps the last good configuration while the file is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-keeper-'));
    dirs.push(dir);
    const path = join(dir, 'network.conf');
    const keeper = createConfigKeeper(path);

    expect(await keeper.read()).toMatchObject({ config: { path, switchStrategy: 'make-before-break' }, error: null, restored: false });
    writeFileSync(path, 'firewall_backend = "nftables"\n');
    expect(await keeper.read()).toMatchObject({ config: { firewallBackend: 'nftables' }, error: null });

    writeFileSync(path, 'firewall_backend = "bogus"\n');
    const bad = await keeper.read();
    expect(bad).toMatchObject({ config: { firewallBackend: 'nftables' }, firstSeen: true, restored: false });
    expect(bad.error).toBe(`${path}: firewall_backend 'bogus' is invalid: must be "iptables" or "nftables"`);
    expect(await keeper.read()).toMatchObject({ config: { firewallBackend: 'nftables' }, error: bad.error, firstSeen: false });

    writeFileSync(path, 'switch_strategy = "sideways"\n');
    expect(await keeper.read()).toMatchObject({ config: { firewallBackend: 'nftables' }, firstSeen: true });

    writeFileSync(path, 'firewall_backend = "iptables"\n');
    expect(await keeper.read()).toMatchObject({ config: { firewallBackend: 'iptables' }, error: null, restored: true });
    expect(await keeper.read()).toMatchObject({ restored: false });
  });

  it('passes the file\'s warnings on when they change, not at every reading', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-keeper-'));
    dirs.push(dir);
    const path = join(dir, 'network.conf');
    const warned: string[] = [];
    const keeper = createConfigKeeper(path, (w) => warned.push(w));
    writeFileSync(path, 'firewall_backend = "nftables"\nfirewall_backend = "iptables"\n');
    expect(await keeper.read()).toMatchObject({ config: { firewallBackend: 'iptables' }, error: null });
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/^warning: .*network\.conf.*duplicate key 'firewall_backend'/);
    await keeper.read();
    expect(warned).toHaveLength(1);
    writeFileSync(path, 'firewall_backend = "iptables"\n');
    await keeper.read();
    writeFileSync(path, 'firewall_backend = "nftables"\nfirewall_backend = "iptables"\n');
    await keeper.read();
    expect(warned).toHaveLength(2);
  });

  it('has no configuration to keep when the first reading is already invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-keeper-'));
    dirs.push(dir);
    const path = join(dir, 'network.conf');
    writeFileSync(path, 'firewall_backend = "bogus"\n');
    expect(await createConfigKeeper(path).read()).toMatchObject({ config: null, firstSeen: true });
  });
});
