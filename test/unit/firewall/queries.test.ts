import { describe, expect, it } from 'vitest';
import { iptablesCheckOf, iptablesSave, nftDeleteByHandle, nftListOwnTable } from '../../../src/firewall/index.js';

describe('queries of our own objects', () => {
  it('list only our nftables table, per family, with handles when asked', () => {
    expect(nftListOwnTable('ipv4')).toEqual(['nft', 'list', 'table', 'ip', 'libvirt_network']);
    expect(nftListOwnTable('ipv6', true)).toEqual(['nft', '-a', 'list', 'table', 'ip6', 'libvirt_network']);
    expect(iptablesSave('ipv6')).toEqual(['ip6tables-save']);
  });
  it('a rule found by handle is removed by handle (libvirt\'s rollback form)', () => {
    expect(nftDeleteByHandle('ip', 'guest_nat', 17)).toEqual({
      program: 'nft', args: ['delete', 'rule', 'ip', 'libvirt_network', 'guest_nat', 'handle', '17'], ignoreErrors: true,
    });
  });
  it('an iptables rule is checked with -C from its recorded removal', () => {
    expect(iptablesCheckOf({ program: 'ip6tables', args: ['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', 'virbr0', '--jump', 'REJECT'] }))
      .toEqual(['ip6tables', '-w', '--table', 'filter', '--check', 'LIBVIRT_FWO', '--in-interface', 'virbr0', '--jump', 'REJECT']);
  });
});
