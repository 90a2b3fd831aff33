import { describe, expect, it } from 'vitest';
import {
  emptyPrivateState, formatFwRemovalXml, fwRemovalFromStatusXml, iptablesRestoreInput, nftScriptLine, parseFwRemovalXml,
  parseIptablesListRules, parseIptablesSave, parseNftEcho, parseNftListTable, privateSetup, removalFromApplied,
  renderBatches, undoOf, type FwCommand, type FwRemoval,
} from '../../../src/firewall/index.js';

const nftRule = (chain: string, ...rest: string[]): FwCommand =>
  ({ program: 'nft', args: ['insert', 'rule', 'ip', 'libvirt_network', chain, ...rest], autoRollback: true });

describe('undo', () => {
  it('iptables: --insert becomes --delete; nft: delete by echoed handle', () => {
    expect(undoOf({ program: 'ip6tables', args: ['--table', 'filter', '--insert', 'LIBVIRT_FWO', '--in-interface', 'virbr0', '--jump', 'REJECT'] }))
      .toEqual({ program: 'ip6tables', args: ['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', 'virbr0', '--jump', 'REJECT'], ignoreErrors: true });
    expect(undoOf(nftRule('guest_nat', 'counter', 'return'), 17))
      .toEqual({ program: 'nft', args: ['delete', 'rule', 'ip', 'libvirt_network', 'guest_nat', 'handle', '17'], ignoreErrors: true });
    expect(() => undoOf(nftRule('guest_nat'))).toThrow("couldn't register rollback command");
  });
  it('removal: groups last to first, commands last to first, errors ignored', () => {
    const c = (n: string): FwCommand => ({ program: 'iptables', args: [n] });
    const removal = removalFromApplied([
      { command: c('a'), undo: c('-a'), group: 0 }, { command: c('b'), undo: c('-b'), group: 0 }, { command: c('k'), undo: c('-k'), group: 1 },
    ], 'iptables');
    expect(removal).toEqual({ backend: 'iptables', groups: [
      { ignoreErrors: true, commands: [{ ...c('-k'), ignoreErrors: true }] },
      { ignoreErrors: true, commands: [{ ...c('-b'), ignoreErrors: true }, { ...c('-a'), ignoreErrors: true }] },
    ] });
  });
});

describe('batches', () => {
  it('nft script: interface names in double quotes, != bare, specs as they are', () => {
    expect(nftScriptLine(nftRule('guest_nat', 'ip', 'daddr', '!=', '10.0.0.0/8', 'oifname', 'eth0', 'counter', 'masquerade')))
      .toBe('insert rule ip libvirt_network guest_nat ip daddr != 10.0.0.0/8 oifname "eth0" counter masquerade');
    expect(nftScriptLine({ program: 'nft', args: ['add', 'chain', 'ip', 'libvirt_network', 'forward', '{ type filter hook forward priority 0; policy accept; }'] }))
      .toBe('add chain ip libvirt_network forward { type filter hook forward priority 0; policy accept; }');
  });
  it('iptables-restore: tables, a new chain as -N (it fails if the chain exists, where a declaration would flush it), -I/-D lines in order', () => {
    expect(iptablesRestoreInput([
      { program: 'iptables', args: ['--table', 'nat', '--new-chain', 'LIBVIRT_PRT'] },
      { program: 'iptables', args: ['--table', 'nat', '--insert', 'POSTROUTING', '--jump', 'LIBVIRT_PRT'] },
      { program: 'iptables', args: ['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', 'virbr0', '--jump', 'REJECT'] },
    ])).toBe('*nat\n-N LIBVIRT_PRT\n-I POSTROUTING --jump LIBVIRT_PRT\nCOMMIT\n*filter\n-D LIBVIRT_FWO --in-interface virbr0 --jump REJECT\nCOMMIT\n');
  });
  it('one batch per program, tolerant commands apart', () => {
    const b = renderBatches([
      { program: 'iptables', args: ['--table', 'filter', '--insert', 'X', '--jump', 'ACCEPT'] },
      { program: 'ip6tables', args: ['--table', 'filter', '--insert', 'X', '--jump', 'ACCEPT'] },
      { program: 'iptables', args: ['--table', 'mangle', '--insert', 'Y', '--jump', 'ACCEPT'], ignoreErrors: true },
      nftRule('guest_input', 'oif', 'virbr0', 'counter', 'reject'),
    ]);
    expect(b.map((x) => [x.argv.join(' '), x.ignoreErrors])).toEqual([
      ['iptables-restore -w --noflush', false], ['ip6tables-restore -w --noflush', false],
      ['iptables-restore -w --noflush', true], ['nft --echo --handle -f -', false],
    ]);
  });
  it('maps nft echo output (as printed by nft 1.0.6) to handles', () => {
    const cmds: FwCommand[] = [
      { program: 'nft', args: ['add', 'table', 'ip', 'libvirt_network'] },
      { program: 'nft', args: ['add', 'chain', 'ip', 'libvirt_network', 'guest_output'] },
      nftRule('forward', 'counter', 'jump', 'guest_output'),
      nftRule('guest_output', 'iif', 'lo', 'counter', 'reject'),
    ];
    // A second run: the existing table is not echoed, and nft may print "handle N" inside a rule.
    const echo = 'add chain ip libvirt_network guest_output # handle 2\n'
      + 'insert rule ip libvirt_network forward counter packets 0 bytes 0 jump guest_output # handle 6\n'
      + 'insert rule ip libvirt_network guest_output handle 8 iif "lo" counter packets 0 bytes 0 reject # handle 7\n'
      + '# new generation 3 by process 4715 (nft)\n';
    expect(parseNftEcho(cmds, echo)).toEqual([undefined, 2, 6, 7]);
  });
});

describe('private setup', () => {
  it('parses iptables --list-rules / iptables-save and nft list table, emitting only what is missing', () => {
    const s = emptyPrivateState();
    parseIptablesListRules('filter', '-P INPUT ACCEPT\n-N LIBVIRT_INP\n-A INPUT -j LIBVIRT_INP\n-N LIBVIRT_OUT\n', s.ipv4);
    parseIptablesSave('*nat\n:POSTROUTING ACCEPT [0:0]\n:LIBVIRT_PRT - [0:0]\n-A POSTROUTING -j LIBVIRT_PRT\nCOMMIT\n', s.ipv4);
    const v4 = privateSetup('iptables', s).filter((c) => c.program === 'iptables').map((c) => c.args.join(' '));
    expect(v4).toEqual([
      '--table filter --insert OUTPUT --jump LIBVIRT_OUT',
      '--table filter --new-chain LIBVIRT_FWO', '--table filter --insert FORWARD --jump LIBVIRT_FWO',
      '--table filter --new-chain LIBVIRT_FWI', '--table filter --insert FORWARD --jump LIBVIRT_FWI',
      '--table filter --new-chain LIBVIRT_FWX', '--table filter --insert FORWARD --jump LIBVIRT_FWX',
      '--table mangle --new-chain LIBVIRT_PRT', '--table mangle --insert POSTROUTING --jump LIBVIRT_PRT',
    ]);
    const n = emptyPrivateState();
    parseNftListTable('ipv4', 'table ip libvirt_network {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tcounter packets 0 bytes 0 jump guest_output\n\t}\n\tchain guest_output {\n\t}\n}\n', n.ipv4);
    expect(privateSetup('nftables', n).filter((c) => c.args[2] === 'ip').map((c) => c.args.slice(0, 2).concat(c.args.slice(4)).join(' '))).toEqual([
      'add chain guest_input', 'insert rule forward counter jump guest_input',
      'add chain guest_cross', 'insert rule forward counter jump guest_cross',
      'add chain guest_nat { type nat hook postrouting priority 100; policy accept; }',
      'add chain postroute_mangle { type filter hook postrouting priority 0; policy accept; }',
    ]);
  });
});

describe('fwRemoval XML', () => {
  const removal: FwRemoval = { backend: 'nftables', groups: [{ ignoreErrors: true, commands: [
    { program: 'nft', args: ['delete', 'rule', 'ip', 'libvirt_network', 'guest_nat', 'handle', '14'], ignoreErrors: true },
    { program: 'nft', args: ['delete', 'rule', 'ip6', 'libvirt_network', 'guest_input', 'handle', '3'], ignoreErrors: true },
  ] }] };
  const xml = `  <firewall name='fwRemoval' backend='nftables'>
    <group ignoreErrors='yes'>
      <action layer='ipv4'>
        <args>
          <item>delete</item>
          <item>rule</item>
          <item>ip</item>
          <item>libvirt_network</item>
          <item>guest_nat</item>
          <item>handle</item>
          <item>14</item>
        </args>
      </action>
      <action layer='ipv6'>
        <args>
          <item>delete</item>
          <item>rule</item>
          <item>ip6</item>
          <item>libvirt_network</item>
          <item>guest_input</item>
          <item>handle</item>
          <item>3</item>
        </args>
      </action>
    </group>
  </firewall>
`;
  it("writes libvirt's format and reads it back", () => {
    expect(formatFwRemovalXml(removal, 2)).toBe(xml);
    expect(parseFwRemovalXml(xml)).toEqual(removal);
  });
  it('escapes text and reads iptables lists from a networkstatus file', () => {
    const ipt: FwRemoval = { backend: 'iptables', groups: [{ ignoreErrors: true, commands: [
      { program: 'iptables', args: ['--table', 'nat', '--delete', 'LIBVIRT_PRT', '!', '--destination', 'a&b<c>'], ignoreErrors: true },
    ] }] };
    const text = formatFwRemovalXml(ipt, 2);
    expect(text).toContain('<item>a&amp;b&lt;c&gt;</item>');
    const status = `<networkstatus>\n  <class_id bitmap='0-2'/>\n  <floor sum='0'/>\n  <network><name>x</name></network>\n${text}</networkstatus>\n`;
    expect(fwRemovalFromStatusXml(status)).toEqual(ipt);
    expect(fwRemovalFromStatusXml('<networkstatus><network/></networkstatus>')).toBeUndefined();
    expect(() => parseFwRemovalXml("<firewall backend='nftables'><group><action layer='ipv4'><args></args></action></group></firewall>")).toThrow("an action's <args> has no <item>");
  });
});
