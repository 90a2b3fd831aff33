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
      hostFirewall: 'integrate', hostFirewallExplicit: false, firewallLayout: 'libvirt', warnings: [],
    });
  });
  it("reads libvirt's quoted values, ignores unknown keys (with a warning) and comments", async () => {
    const p = conf('# libvirt network.conf\nfirewall_backend = "nftables"\nfirewall_backend_priority = "nftables,iptables"\nswitch_strategy = "remove-first"\nsomething_else = 1\n');
    const warned: string[] = [];
    expect(await loadConfig(p, { warn: (l) => warned.push(l) })).toEqual({
      path: p, firewallBackend: 'nftables', firewallBackendPriority: ['nftables', 'iptables'], switchStrategy: 'remove-first',
      hostFirewall: 'integrate', hostFirewallExplicit: false, firewallLayout: 'libvirt', warnings: [`${p}:5: unknown key 'something_else' ignored`],
    });
    expect(warned).toEqual([`${p}:5: unknown key 'something_else' ignored`]);
    expect(parseConfig('firewall_backend_priority = ["nftables", "iptables"]\n', 'x').firewallBackendPriority).toEqual(['nftables', 'iptables']);
  });
  const bad: Array<[string, string]> = [
    ['firewall_backend = "pf"\n', `firewall_backend 'pf' is invalid: must be "iptables" or "nftables"`],
    ['switch_strategy = "yolo"\n', `switch_strategy 'yolo' is invalid: must be "make-before-break" or "remove-first"`],
    ['firewall_backend_priority = "nftables,ebtables"\n', `firewall_backend_priority 'nftables,ebtables' is invalid: must be a comma-separated list of "iptables" and "nftables", each at most once`],
    ['host_firewall = "yes"\n', `host_firewall 'yes' is invalid: must be "integrate", "report" or "off"`],
    ['host_firewall = ""\n', `host_firewall '' is invalid: must be "integrate", "report" or "off"`],
    ['firewall_layout = "fast"\n', `firewall_layout 'fast' is invalid: must be "libvirt" or "indexed"`],
    ['firewall_layout = "indexed"\nfirewall_backend = "iptables"\n', `firewall_layout 'indexed' is invalid with firewall_backend 'iptables': it needs "nftables"`],
    // A key under a section header is read (and validated), not hidden.
    ['[network]\nfirewall_backend = "pf"\n', `firewall_backend 'pf' is invalid: must be "iptables" or "nftables"`],
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

describe('network.conf: new keys and warnings', () => {
  it('host_firewall: default integrate, not explicit; any value set in the file is explicit', () => {
    expect(parseConfig('', 'f')).toMatchObject({ hostFirewall: 'integrate', hostFirewallExplicit: false });
    expect(parseConfig('host_firewall = "integrate"\n', 'f')).toMatchObject({ hostFirewall: 'integrate', hostFirewallExplicit: true });
    expect(parseConfig("host_firewall = 'report'\n", 'f')).toMatchObject({ hostFirewall: 'report', hostFirewallExplicit: true });
    expect(parseConfig('host_firewall = "off"  # no integration\n', 'f')).toMatchObject({ hostFirewall: 'off', hostFirewallExplicit: true });
    // A commented-out key is not set.
    expect(parseConfig('# host_firewall = "integrate"\n', 'f')).toMatchObject({ hostFirewallExplicit: false });
  });
  it('firewall_layout: default libvirt; indexed with nftables or with the backend unset', () => {
    expect(parseConfig('', 'f').firewallLayout).toBe('libvirt');
    expect(parseConfig('firewall_layout = "indexed"\nfirewall_backend = "nftables"\n', 'f').firewallLayout).toBe('indexed');
    expect(parseConfig('firewall_layout = "indexed"\n', 'f').firewallLayout).toBe('indexed');
  });
  it('indexed with the detected backend iptables is refused at load, naming the file and key', async () => {
    const p = conf('firewall_layout = "indexed"\n');
    const err = await loadConfig(p, { onPath: () => true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).message).toBe(`${p}: firewall_layout 'indexed' is invalid here: firewall_backend is unset and the backend detected is 'iptables'; set firewall_backend = "nftables"`);
    expect((await loadConfig(p, { onPath: (x) => x === 'nft' })).firewallLayout).toBe('indexed');
    const q = conf('firewall_layout = "indexed"\nfirewall_backend_priority = "nftables,iptables"\n');
    expect((await loadConfig(q, { onPath: () => true })).firewallLayout).toBe('indexed');
    expect(() => resolveBackend(parseConfig('firewall_layout = "indexed"\n', 'f'), () => true)).toThrow("f: firewall_layout 'indexed' is invalid here");
  });
  it('sections, duplicates, unknown keys and stray lines are warnings naming file and line; keys stay read', () => {
    const c = parseConfig([
      'firewall_backend = "iptables"',      // 1
      '',                                   // 2
      '[network]',                          // 3
      'firewall_backend = "nftables"',      // 4
      'firewal_backend = "nftables"',       // 5
      'just some words',                    // 6
      'host_firewall = "report"',           // 7
    ].join('\n'), '/etc/n.conf');
    expect(c.firewallBackend).toBe('nftables');
    expect(c.hostFirewall).toBe('report');
    expect(c.warnings).toEqual([
      "/etc/n.conf:3: section header '[network]' ignored: network.conf has no sections; the keys after it are read as top-level keys",
      "/etc/n.conf:4: duplicate key 'firewall_backend' (also on line 1): the last one counts",
      "/etc/n.conf:5: unknown key 'firewal_backend' ignored",
      "/etc/n.conf:6: ignored: not a 'key = value' line",
    ]);
  });
  it('a list may span lines; quotes keep a #', () => {
    const c = parseConfig('firewall_backend_priority = [\n  "nftables",  # first\n  "iptables"\n]\nswitch_strategy = "remove-first"\n', 'f');
    expect(c.firewallBackendPriority).toEqual(['nftables', 'iptables']);
    expect(c.switchStrategy).toBe('remove-first');
    expect(c.warnings).toEqual([]);
    expect(() => parseConfig('firewall_backend = "nf#t"\n', 'f')).toThrow("f: firewall_backend 'nf#t' is invalid");
  });
  it('loadConfig writes warnings to stderr by default', async () => {
    const p = conf('[x]\n');
    const writes: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => { writes.push(s); return true; }) as typeof process.stderr.write;
    try { await loadConfig(p); } finally { process.stderr.write = orig; }
    expect(writes).toEqual([`vnetfw: warning: ${p}:1: section header '[x]' ignored: network.conf has no sections; the keys after it are read as top-level keys\n`]);
  });
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
