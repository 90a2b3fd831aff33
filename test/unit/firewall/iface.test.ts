// Interface names reach argv and nft scripts only checked, and in scripts always quoted.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetworkXml, type NetworkDef } from '../../../src/definition/index.js';
import { buildRules, iptablesRestoreInput, nftScriptLine, renderBatches, ruleCommands, type FwCommand } from '../../../src/firewall/index.js';
import { VnetfwError } from '../../../src/errors.js';

const nat = parseNetworkXml(readFileSync(new URL('../../fixtures/cases/nat-default.xml', import.meta.url), 'utf8'), 'nat-default.xml');
const rule = (...rest: string[]): FwCommand => ({ program: 'nft', args: ['insert', 'rule', 'ip', 'libvirt_network', 'guest_output', ...rest] });

const refused = (f: () => unknown, message: string): void => {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(VnetfwError);
  expect((err as VnetfwError).code).toBe('EFW_IFACE');
  expect((err as VnetfwError).exitCode).toBe(2);
  expect((err as VnetfwError).message).toBe(message);
};

describe('interface names in nft scripts', () => {
  it('are double-quoted after iif, oif, iifname and oifname', () => {
    expect(nftScriptLine(rule('iif', 'virbr0', 'oifname', 'eth0.5', 'counter', 'accept')))
      .toBe('insert rule ip libvirt_network guest_output iif "virbr0" oifname "eth0.5" counter accept');
    // A name that is a number stays a quoted name, not something nft could read as an index.
    expect(nftScriptLine(rule('oif', '1', 'counter', 'accept'))).toBe('insert rule ip libvirt_network guest_output oif "1" counter accept');
  });
  it('a name in braces is refused, never passed through as a set', () => {
    refused(() => nftScriptLine(rule('iif', '{vr-a}', 'counter', 'accept')),
      "interface name '{vr-a}' cannot be put in a firewall rule: '{' is not allowed: only letters, digits, '_', '.' and '-'");
    refused(() => nftScriptLine(rule('oifname', '"lo"')),
      `interface name '"lo"' cannot be put in a firewall rule: '"' is not allowed: only letters, digits, '_', '.' and '-'`);
  });
  it('chain specs in braces are still written as they are', () => {
    expect(nftScriptLine({ program: 'nft', args: ['add', 'chain', 'ip', 't', 'c', '{ type filter hook forward priority 0; policy accept; }'] }))
      .toBe('add chain ip t c { type filter hook forward priority 0; policy accept; }');
  });
  it('every rule of a real network renders with its bridge quoted', () => {
    const script = renderBatches(ruleCommands(buildRules(nat, 'nftables'))).map((b) => b.stdin).join('');
    expect(script).toContain('iif "virbr0"');
    expect(script).toContain('oif "virbr0"');
    expect(script).not.toMatch(/\b(iif|oif|iifname|oifname) [^"]/);
  });
});

describe('interface names in iptables input', () => {
  it("a '+' (iptables' wildcard) is refused after -i/-o/--in-interface/--out-interface", () => {
    refused(() => iptablesRestoreInput([{ program: 'iptables', args: ['--table', 'filter', '--insert', 'LIBVIRT_FWO', '--in-interface', '+', '--jump', 'ACCEPT'] }]),
      "interface name '+' cannot be put in a firewall rule: '+' is not allowed: only letters, digits, '_', '.' and '-'");
    refused(() => iptablesRestoreInput([{ program: 'iptables', args: ['-t', 'filter', '-I', 'LIBVIRT_FWO', '-o', 'vir+', '-j', 'ACCEPT'] }]),
      "interface name 'vir+' cannot be put in a firewall rule: '+' is not allowed: only letters, digits, '_', '.' and '-'");
  });
});

describe('buildRules', () => {
  // A definition that did not come through the XML parser (a replayed or adopted one) is checked too.
  const withBridge = (name: string, dev?: string): NetworkDef =>
    ({ ...nat, bridge: { ...nat.bridge, name }, forward: { ...nat.forward, ...(dev === undefined ? {} : { dev }) } });
  it('refuses a bridge or forward dev that is a pattern, on both backends', () => {
    for (const backend of ['iptables', 'nftables'] as const) {
      refused(() => buildRules(withBridge('+'), backend), "bridge name '+' cannot be put in a firewall rule: '+' is not allowed: only letters, digits, '_', '.' and '-'");
      refused(() => buildRules(withBridge('virbr0', 'eth*'), backend), "forward dev 'eth*' cannot be put in a firewall rule: '*' is not allowed: only letters, digits, '_', '.' and '-'");
    }
  });
});
