// Neighbour detection and integration plans, pure: rulesets captured from Docker's chains laid
// down as Docker leaves them, a NixOS-like nixos-fw table and Debian's firewalld 1.3 (nftables).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNetworkXml } from '../../../src/definition/index.js';
import { factsFromRuleset, noNeighbours, planIntegration, type NeighbourFacts } from '../../../src/firewall/index.js';
import { RulesetError } from '../../../src/ruleset/index.js';

const dir = join(import.meta.dirname, '../../fixtures/neighbours');
const ruleset = (name: string): string => readFileSync(join(dir, 'rulesets', `${name}.json`), 'utf8');
const def = parseNetworkXml(readFileSync(join(dir, 'default.xml'), 'utf8'), 'default.xml');
const integrate = { mode: 'integrate' as const, explicit: false, vnetfwZoneInstalled: false };

describe('factsFromRuleset', () => {
  it("Docker: iptables FORWARD policy DROP with DOCKER-USER, both families; no host table", () => {
    const f = factsFromRuleset(ruleset('docker'));
    expect(f.forwardDrop).toEqual({ ipv4: { dockerUser: true }, ipv6: { dockerUser: true } });
    expect(f.hostTables).toEqual([]);
    expect(f.firewalldSeen).toBe(false);
  });
  it('nixos-fw: its input and forward chains (policy drop) are host tables', () => {
    const f = factsFromRuleset(ruleset('nixos'));
    expect(f.hostTables).toEqual([
      { family: 'inet', table: 'nixos-fw', chain: 'input', hook: 'input' },
      { family: 'inet', table: 'nixos-fw', chain: 'forward', hook: 'forward' },
    ]);
    expect(f.forwardDrop).toEqual({ ipv4: null, ipv6: null });
  });
  it("firewalld: its table is seen, and is not taken for a host table", () => {
    const f = factsFromRuleset(ruleset('firewalld'));
    expect(f.firewalldSeen).toBe(true);
    expect(f.hostTables).toEqual([]);
  });
  it('a table or chain name that is not a plain nft identifier is never taken (it would reach argv)', () => {
    const json = JSON.stringify({ nftables: [
      { chain: { family: 'inet', table: 'x;y', name: 'input', type: 'filter', hook: 'input', policy: 'drop' } },
      { chain: { family: 'inet', table: 'ok', name: 'in put', type: 'filter', hook: 'input', policy: 'drop' } },
    ] });
    expect(factsFromRuleset(json).hostTables).toEqual([]);
  });
  it('output that is not nft JSON is an error, not "nothing found"', () => {
    expect(() => factsFromRuleset('table inet x {}')).toThrow(RulesetError);
  });
});

const facts = (over: Partial<NeighbourFacts>): NeighbourFacts => ({ ...noNeighbours(), ...over });

describe('planIntegration', () => {
  it('Docker: accept rules for the bridge in DOCKER-USER, in libvirt order, each with its exact removal', () => {
    const p = planIntegration(def, facts({ forwardDrop: { ipv4: { dockerUser: true }, ipv6: null } }), integrate);
    expect(p.steps.map((s) => s.argv.slice(6).join(' '))).toEqual([
      '--in-interface virbr0 --out-interface virbr0 --jump ACCEPT --match comment --comment vnetfw virbr0',
      '--destination 192.168.122.0/24 --out-interface virbr0 --match conntrack --ctstate ESTABLISHED,RELATED --jump ACCEPT --match comment --comment vnetfw virbr0',
      '--source 192.168.122.0/24 --in-interface virbr0 --jump ACCEPT --match comment --comment vnetfw virbr0',
    ]);
    expect(p.steps.every((s) => s.argv.slice(0, 6).join(' ') === 'iptables -w --table filter --insert DOCKER-USER')).toBe(true);
    expect(p.steps.map((s) => s.undo[0]?.join(' '))).toEqual(p.steps.map((s) => s.argv.join(' ').replace('--insert', '--delete')));
  });
  it('FORWARD DROP without DOCKER-USER: the top of FORWARD', () => {
    const p = planIntegration(def, facts({ forwardDrop: { ipv4: { dockerUser: false }, ipv6: null } }), integrate);
    expect(new Set(p.steps.map((s) => s.argv[5]))).toEqual(new Set(['FORWARD']));
  });
  it('firewalld: zone from <bridge zone>, else libvirt, else the zone vnetfw installs (once)', () => {
    const zoned = { ...def, bridge: { ...def.bridge, zone: 'trusted' } };
    const fw = (zones: string[]): NeighbourFacts => facts({ firewalldSeen: true, firewalld: { zones } });
    expect(planIntegration(zoned, fw(['public', 'trusted', 'libvirt']), integrate).steps.map((s) => s.argv.join(' ')))
      .toEqual(['firewall-cmd --zone=trusted --add-interface=virbr0']);
    expect(planIntegration(def, fw(['public', 'libvirt']), integrate).steps.map((s) => s.argv.join(' ')))
      .toEqual(['firewall-cmd --zone=libvirt --add-interface=virbr0']);
    const install = planIntegration(def, fw(['public']), integrate).steps;
    expect(install.map((s) => s.argv.slice(1).join(' '))).toEqual([
      '--permanent --new-zone=vnetfw', '--permanent --zone=vnetfw --set-target=ACCEPT',
      '--permanent --zone=vnetfw --add-service=dhcp --add-service=dhcpv6 --add-service=dns --add-service=tftp',
      '--permanent --zone=vnetfw --add-protocol=icmp --add-protocol=ipv6-icmp',
      '--permanent --zone=vnetfw --add-rich-rule=rule priority="32767" reject', '--reload', '--zone=vnetfw --add-interface=virbr0',
    ]);
    expect(planIntegration(def, fw(['public']), { ...integrate, vnetfwZoneInstalled: true }).steps).toHaveLength(1);
    expect(planIntegration(zoned, fw(['public']), integrate).error?.message).toMatch(/firewalld has no zone 'trusted'/);
    expect(planIntegration(zoned, facts({}), integrate).error?.message).toMatch(/zone 'trusted' requested but firewalld is not running/);
  });
  it("firewalld's rules in the kernel but firewalld not answering: the start fails naming firewalld", () => {
    expect(planIntegration(def, facts({ firewalldSeen: true, firewalld: null }), integrate).error?.message)
      .toMatch(/firewalld's rules are in the kernel but firewalld does not answer/);
  });
  it('a host nftables table: only a warning unless host_firewall = "integrate" is written in network.conf', () => {
    const nix = factsFromRuleset(ruleset('nixos'));
    const implicit = planIntegration(def, nix, integrate);
    expect(implicit.steps).toEqual([]);
    expect(implicit.warnings).toEqual([
      'default: host nftables chain inet nixos-fw input (hook input, policy drop) drops guests\' traffic; vnetfw changes it only with host_firewall = "integrate" written in network.conf',
      'default: host nftables chain inet nixos-fw forward (hook forward, policy drop) drops guests\' traffic; vnetfw changes it only with host_firewall = "integrate" written in network.conf',
    ]);
    const explicit = planIntegration(def, nix, { ...integrate, explicit: true });
    expect(explicit.warnings).toEqual([]);
    expect(explicit.steps.map((s) => s.argv.slice(3).join(' '))).toEqual([
      'insert rule inet nixos-fw input iifname "virbr0" tcp dport 53 accept comment "vnetfw virbr0"',
      'insert rule inet nixos-fw input iifname "virbr0" udp dport { 53, 67, 69, 547 } accept comment "vnetfw virbr0"',
      'insert rule inet nixos-fw forward iifname "virbr0" oifname "virbr0" accept comment "vnetfw virbr0"',
      'insert rule inet nixos-fw forward oifname "virbr0" ip daddr 192.168.122.0/24 ct state established,related accept comment "vnetfw virbr0"',
      'insert rule inet nixos-fw forward iifname "virbr0" ip saddr 192.168.122.0/24 accept comment "vnetfw virbr0"',
    ]);
  });
  it('report: warnings only; off: nothing, not even a look', () => {
    const all = facts({ firewalldSeen: true, firewalld: { zones: ['libvirt'] }, forwardDrop: { ipv4: { dockerUser: true }, ipv6: null } });
    const report = planIntegration(def, all, { ...integrate, mode: 'report' });
    expect(report.steps).toEqual([]);
    expect(report.warnings).toHaveLength(2);
    expect(planIntegration(def, all, { ...integrate, mode: 'off' })).toEqual({ steps: [], warnings: [] });
  });
});

describe('<bridge zone> in the network XML', () => {
  it("a name libvirt's schema refuses is a one-line error naming file, field and value", () => {
    const xml = readFileSync(join(dir, 'default.xml'), 'utf8').replace("stp='off'", "zone='a b;c' stp='off'");
    expect(() => parseNetworkXml(xml, 'net.xml')).toThrow("net.xml: bridge zone 'a b;c' is invalid: only letters, digits, '_' and '-'");
  });
});
