// Status files as the newest libvirt writes them (nftables backend, DHCP checksum as a tc filter on
// the bridge, FACTS §4 era 3 and §6: virFirewallFormat's element layout, 2-space indentation): the
// tc removal is accepted on the network's own bridge only and runs as its own tc process.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLibvirtRemoval, renderBatches } from '../../../src/firewall/index.js';
import { parseStatusText } from '../../../src/libvirt/index.js';

const casesDir = fileURLToPath(new URL('../../fixtures/cases/', import.meta.url));
const TC = ['filter', 'del', 'dev', 'virbr0', 'prio', '2', 'protocol', 'ip', 'parent', '1:', 'u32', 'match', 'ip', 'dport', '68', 'ffff', 'action', 'csum', 'ip', 'and', 'udp'];

const action = (layer: string, items: string[]): string =>
  [`      <action layer='${layer}'>`, '        <args>', ...items.map((i) => `          <item>${i}</item>`), '        </args>', '      </action>'].join('\n');

const newestStatus = (tcItems: string[] = TC): string => [
  '<networkstatus>', "  <class_id bitmap='0-2'/>", "  <floor sum='0'/>",
  readFileSync(`${casesDir}nat-default.xml`, 'utf8').trim(),
  "  <firewall name='fwRemoval' backend='nftables'>", "    <group ignoreErrors='yes'>",
  action('ipv4', ['delete', 'rule', 'ip', 'libvirt_network', 'guest_nat', 'handle', '12']),
  action('ipv4', ['delete', 'rule', 'ip', 'libvirt_network', 'guest_output', 'handle', '5']),
  action('tc', tcItems),
  '    </group>', '  </firewall>', '</networkstatus>', ''].join('\n');

describe('status files of the newest libvirt (tc checksum filter in the removal list)', () => {
  it('reads the tc action and accepts it on the network\'s bridge; it runs as one tc process', () => {
    const st = parseStatusText(newestStatus(), 'default.xml');
    expect(st.def.name).toBe('default');
    const removal = checkLibvirtRemoval(st.listed ?? { backend: 'iptables', groups: [] }, st.def, 'default.xml');
    expect(removal.backend).toBe('nftables');
    const cmds = removal.groups.flatMap((g) => g.commands);
    expect(cmds.map((c) => c.program)).toEqual(['nft', 'nft', 'tc']);
    expect(cmds[2]?.args).toEqual(TC);
    const tcBatch = renderBatches(cmds).find((b) => b.argv[0] === 'tc');
    expect(tcBatch?.argv).toEqual(['tc', ...TC]);
  });

  it('refuses a tc action on another device or of another shape (exit 2, naming it)', () => {
    for (const [items, reason] of [
      [TC.map((a) => (a === 'virbr0' ? 'eth0' : a)), "device 'eth0' is not the network's bridge virbr0"],
      [['qdisc', 'del', 'dev', 'virbr0', 'root'], "not 'filter del dev virbr0"],
      [['filter', 'del', 'dev', 'virbr0'], "not 'filter del dev virbr0"],
    ] as const) {
      const st = parseStatusText(newestStatus([...items]), 'default.xml');
      expect(() => checkLibvirtRemoval(st.listed ?? { backend: 'nftables', groups: [] }, st.def, 'default.xml'))
        .toThrow(`default.xml: fwRemoval action '${items.join(' ')}' refused: not a removal of libvirt's own rules of network 'default' (${reason}`);
    }
  });

  it('a tc action in an iptables list, or a layer that does not match its nft family, is refused', () => {
    const ipt = newestStatus().replace("backend='nftables'", "backend='iptables'");
    expect(() => parseStatusText(ipt, 'x.xml')).toThrow("x.xml: fwRemoval action layer 'tc' is not supported with backend iptables");
    const mism = newestStatus().replace("<action layer='ipv4'>", "<action layer='ipv6'>");
    expect(() => parseStatusText(mism, 'x.xml')).toThrow("x.xml: action layer 'ipv6' does not match nft family 'ip'");
  });
});
