import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, isOnPath, loadConfig, parseConfig, resolveBackend } from '../../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vnetfw-conf-'));
const conf = (text: string): string => { const p = join(dir, `c${Math.random()}.conf`); writeFileSync(p, text); return p; };

describe('network.conf', () => {
  it('missing file = defaults', async () => {
    expect(await loadConfig(join(dir, 'none.conf'))).toEqual({
      path: join(dir, 'none.conf'), firewallBackendPriority: ['iptables', 'nftables'], switchStrategy: 'make-before-break',
    });
  });
  it("reads libvirt's quoted values, ignores unknown keys and comments", async () => {
    const p = conf('# libvirt network.conf\nfirewall_backend = "nftables"\nfirewall_backend_priority = "nftables,iptables"\nswitch_strategy = "remove-first"\nsomething_else = 1\n');
    expect(await loadConfig(p)).toEqual({ path: p, firewallBackend: 'nftables', firewallBackendPriority: ['nftables', 'iptables'], switchStrategy: 'remove-first' });
    expect(parseConfig('firewall_backend_priority = ["nftables", "iptables"]\n', 'x').firewallBackendPriority).toEqual(['nftables', 'iptables']);
  });
  const bad: Array<[string, string]> = [
    ['firewall_backend = "pf"\n', `firewall_backend 'pf' is invalid: must be "iptables" or "nftables"`],
    ['switch_strategy = "yolo"\n', `switch_strategy 'yolo' is invalid: must be "make-before-break" or "remove-first"`],
    ['firewall_backend_priority = "nftables,ebtables"\n', `firewall_backend_priority 'nftables,ebtables' is invalid: must be a comma-separated list of "iptables" and "nftables", each at most once`],
  ];
  for (const [text, msg] of bad) {
    it(`unknown value: ${text.trim()}`, async () => {
      const p = conf(text);
      const err = await loadConfig(p).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(`${p}: ${msg}`);
      expect((err as ConfigError).exitCode).toBe(2);
    });
  }
});

describe('resolveBackend', () => {
  const base = parseConfig('', 'x');
  it('auto: first of the priority list whose program is on PATH', () => {
    expect(resolveBackend(base, () => true)).toBe('iptables');
    expect(resolveBackend(base, (p) => p === 'nft')).toBe('nftables');
    expect(resolveBackend({ ...base, firewallBackendPriority: ['nftables', 'iptables'] }, () => true)).toBe('nftables');
  });
  it('none found', () => {
    expect(() => resolveBackend(base, () => false)).toThrow(new ConfigError('ECONF_NO_BACKEND', 'could not find a usable firewall backend', 1));
  });
  it('requested but missing; only that backend is tried', () => {
    expect(() => resolveBackend({ ...base, firewallBackend: 'nftables' }, (p) => p === 'iptables'))
      .toThrow("requested firewall_backend 'nftables' is not available");
    expect(resolveBackend({ ...base, firewallBackend: 'nftables' }, (p) => p === 'nft')).toBe('nftables');
  });
  it('real PATH lookup', () => {
    expect(isOnPath('sh')).toBe(true);
    expect(isOnPath('definitely-not-a-program-vnetfw')).toBe(false);
    expect(isOnPath('sh', '')).toBe(false);
  });
});
