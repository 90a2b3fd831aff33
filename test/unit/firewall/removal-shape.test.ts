// Removal lists read from libvirt's status files are untrusted: only removals of libvirt's own rules
// of that network are accepted. What libvirt really records is taken from libvirt's expected
// command files (test/fixtures/cases: each --insert becomes the --delete libvirt saves), not from
// vnetfw's rule builder.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseNetworkXml } from '../../../src/definition/index.js';
import { buildRules, checkLibvirtRemoval, iptablesUndo, type FwCommand, type FwRemoval } from '../../../src/firewall/index.js';
import { libvirtCommands } from '../../support/rulesets.js';

const casesDir = fileURLToPath(new URL('../../fixtures/cases/', import.meta.url));
const CASES = ['nat-default', 'nat-tftp', 'nat-no-dhcp', 'nat-ipv6', 'route-default', 'isolated'];
const defOf = (name: string) => parseNetworkXml(readFileSync(`${casesDir}${name}.xml`, 'utf8'), `${name}.xml`);
const unquote = (w: string): string => w.replace(/^'(.*)'$/, '$1');

// libvirt's saved form of each iptables rule of a case: no program, no -w, --insert -> --delete.
const libvirtIptablesRemoval = (name: string): FwRemoval => {
  const commands: FwCommand[] = libvirtCommands(readFileSync(`${casesDir}${name}-linux.iptables`, 'utf8')).reverse().map((line) => {
    const words = line.split(/\s+/).map(unquote);
    return { program: words[0] as 'iptables' | 'ip6tables', args: words.slice(2).map((w) => (w === '--insert' ? '--delete' : w)), ignoreErrors: true };
  });
  return { backend: 'iptables', groups: [{ ignoreErrors: true, commands }] };
};

// libvirt's saved form of its nft rules: `delete rule FAM libvirt_network CHAIN handle N`.
const libvirtNftRemoval = (name: string): FwRemoval => {
  const commands: FwCommand[] = libvirtCommands(readFileSync(`${casesDir}${name}-linux.nftables`, 'utf8')).map((line, i) => {
    const w = line.split(/\s+/);   // nft -ae insert rule FAM libvirt_network CHAIN ...
    return { program: 'nft', args: ['delete', 'rule', w[4] ?? '', w[5] ?? '', w[6] ?? '', 'handle', String(100 + i)], ignoreErrors: true };
  });
  return { backend: 'nftables', groups: [{ ignoreErrors: true, commands: commands.reverse() }] };
};

const one = (backend: FwRemoval['backend'], program: FwCommand['program'], args: string[]): FwRemoval =>
  ({ backend, groups: [{ ignoreErrors: true, commands: [{ program, args, ignoreErrors: true }] }] });

describe('removal lists from status files: only libvirt\'s own removals of the network', () => {
  for (const name of CASES) {
    it(`${name}: libvirt's iptables and nftables removals are accepted unchanged`, () => {
      const def = defOf(name);
      for (const r of [libvirtIptablesRemoval(name), libvirtNftRemoval(name)]) {
        expect(r.groups[0]?.commands.length).toBeGreaterThan(0);
        expect(checkLibvirtRemoval(r, def, 'st.xml')).toEqual(r);
      }
    });
  }

  const refused: Array<[string, FwRemoval, string]> = [
    ['iptables flush', one('iptables', 'iptables', ['--table', 'filter', '--flush']), "not '--table T --delete CHAIN ...'"],
    ['iptables policy', one('iptables', 'iptables', ['--table', 'filter', '--policy', 'INPUT', 'DROP']), "not '--table T --delete CHAIN ...'"],
    ['delete from INPUT', one('iptables', 'iptables', ['--table', 'filter', '--delete', 'INPUT', '--in-interface', 'virbr0', '--jump', 'ACCEPT']), "chain 'INPUT' is not one of libvirt's chains"],
    ['delete-chain', one('iptables', 'iptables', ['--table', 'filter', '--delete-chain', 'LIBVIRT_INP']), "not '--table T --delete CHAIN ...'"],
    ['raw table', one('iptables', 'iptables', ['--table', 'raw', '--delete', 'LIBVIRT_PRT', '--jump', 'ACCEPT']), "table 'raw' is not filter, nat or mangle"],
    ['foreign option', one('iptables', 'iptables', ['--table', 'filter', '--delete', 'LIBVIRT_INP', '--in-interface', 'virbr0', '-m', 'comment', '--jump', 'ACCEPT']), "option '-m' is not one libvirt's rules use"],
    ['another bridge', one('iptables', 'iptables', ['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', 'virbr9', '--jump', 'REJECT']), "interface 'virbr9' is not this network's"],
    ['wildcard interface', one('iptables', 'iptables', ['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', '+', '--jump', 'REJECT']), "interface '+' is not this network's"],
    ['another subnet', one('iptables', 'iptables', ['--table', 'nat', '--delete', 'LIBVIRT_PRT', '--source', '10.0.0.0/8', '--jump', 'MASQUERADE']), "address '10.0.0.0/8' is not this network's"],
    ['jump to a chain', one('iptables', 'iptables', ['--table', 'filter', '--delete', 'LIBVIRT_INP', '--in-interface', 'virbr0', '--jump', 'LIBVIRT_FWO']), "--jump 'LIBVIRT_FWO' is not a target"],
    ['nft flush ruleset', one('nftables', 'nft', ['flush', 'ruleset']), "not 'delete rule FAMILY libvirt_network CHAIN handle N'"],
    ['nft delete table', one('nftables', 'nft', ['delete', 'table', 'inet', 'hostfw']), "not 'delete rule FAMILY libvirt_network CHAIN handle N'"],
    ['nft other table', one('nftables', 'nft', ['delete', 'rule', 'inet', 'hostfw', 'input', 'handle', '4']), "family 'inet' is not ip or ip6"],
    ['nft forward chain', one('nftables', 'nft', ['delete', 'rule', 'ip', 'libvirt_network', 'forward', 'handle', '4']), "chain 'forward' is not one of libvirt's per-network chains"],
    ['nft extra words', one('nftables', 'nft', ['delete', 'rule', 'ip', 'libvirt_network', 'guest_nat', 'handle', '4', ';', 'flush', 'ruleset']), "not 'delete rule"],
    ['nft bad handle', one('nftables', 'nft', ['delete', 'rule', 'ip', 'libvirt_network', 'guest_nat', 'handle', '0x4']), "handle '0x4' is not a rule handle"],
    ['iptables in an nftables list', one('nftables', 'iptables', ['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', 'virbr0', '--jump', 'REJECT']), 'a iptables action in an nftables list'],
  ];
  for (const [what, removal, reason] of refused) {
    it(`refuses ${what}, naming the file and the action`, () => {
      const args = removal.groups[0]?.commands[0]?.args.join(' ') ?? '';
      let err: unknown;
      try { checkLibvirtRemoval(removal, defOf('nat-default'), '/run/libvirt/network/default.xml'); } catch (e) { err = e; }
      expect(err).toMatchObject({ code: 'EFW_SHAPE', exitCode: 2 });
      const msg = (err as Error).message;
      expect(msg.startsWith(`/run/libvirt/network/default.xml: fwRemoval action '${args}' refused`)).toBe(true);
      expect(msg).toContain(reason);
      expect(msg).not.toContain('\n');
    });
  }
});

describe('removals of definitions with a forward device, port ranges and SNAT', () => {
  const extra = fileURLToPath(new URL('../../fixtures/extra/', import.meta.url));
  for (const name of ['forward-dev', 'nat-port-range', 'nat-snat', 'nat-ipv6-yes', 'route-ipv6', 'isolated-ipv6-yes']) {
    it(`${name}: the --delete of every rule of the network is accepted`, () => {
      const def = parseNetworkXml(readFileSync(`${extra}${name}.xml`, 'utf8'), `${name}.xml`);
      const commands = buildRules(def, 'iptables').groups.flatMap((g) => g.commands).map((c) => iptablesUndo(c)).filter((c) => c !== undefined);
      expect(commands.length).toBeGreaterThan(0);
      const r: FwRemoval = { backend: 'iptables', groups: [{ ignoreErrors: true, commands }] };
      expect(checkLibvirtRemoval(r, def, 'st.xml')).toEqual(r);
    });
  }
});
