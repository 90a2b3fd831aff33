import { describe, expect, it } from 'vitest';
import { iptablesCheckOf, iptablesSave, nftDeleteByHandle, nftListOwnTable, nftTableAbsent } from '../../../src/firewall/index.js';

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
  it('a table that is not there is told from nft failing (nft 1.0.6\'s words for ENOENT)', () => {
    const absent = 'Error: No such file or directory\nlist table ip6 libvirt_network\n               ^^^^^^^^^^^^^^^\n';
    expect(nftTableAbsent({ exitCode: 1, stderr: absent })).toBe(true);
    expect(nftTableAbsent({ exitCode: 1, stderr: 'Error: Operation not permitted\n' })).toBe(false);
    expect(nftTableAbsent({ exitCode: -1, stderr: 'spawn nft ENOENT' })).toBe(false);
    expect(nftTableAbsent({ exitCode: 0, stderr: '' })).toBe(false);
  });
});
