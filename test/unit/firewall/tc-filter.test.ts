// The newest libvirt's DHCP checksum filter as verify finds it in `tc -j filter show dev BR parent 1:`
// (iproute2 6.1's output, captured from a bridge with that filter), and the recorded removal it
// belongs to.
import { describe, expect, it } from 'vitest';
import { checksumFilterAdd, checksumFilterBridge, hasChecksumFilter, tcChecksumFilter } from '../../../src/firewall/index.js';

const filter = (pref: number, value: string, off = 20): string => JSON.stringify([
  { protocol: 'ip', pref, kind: 'u32', chain: 0 },
  { protocol: 'ip', pref, kind: 'u32', chain: 0, options: { fh: '800:', ht_divisor: 1 } },
  { protocol: 'ip', pref, kind: 'u32', chain: 0, options: { fh: '800::800', order: 2048, key_ht: '800', bkt: '0', flowid: '1:2', not_in_hw: true, match: { value, mask: 'ffff', offmask: '', off } } },
]);

describe('the tc checksum filter', () => {
  it('is found by priority, protocol, kind and its match on UDP port 68', () => {
    expect(hasChecksumFilter(filter(2, '44'))).toBe(true);
    expect(hasChecksumFilter('[]')).toBe(false);
    expect(hasChecksumFilter('')).toBe(false);
    expect(hasChecksumFilter(filter(3, '44'))).toBe(false);    // another priority
    expect(hasChecksumFilter(filter(2, '35'))).toBe(false);    // port 53
    expect(hasChecksumFilter(filter(2, '44', 16))).toBe(false);
  });

  it('output that is not a JSON list is an error, not an answer', () => {
    expect(() => hasChecksumFilter('filter parent 1: protocol ip pref 2 u32')).toThrow();
    expect(() => hasChecksumFilter('{}')).toThrow(/not a JSON list/);
  });

  it('a recorded removal names its bridge only when it is exactly libvirt\'s filter removal', () => {
    expect(checksumFilterBridge({ program: 'tc', args: tcChecksumFilter('del', 'virbr3') })).toBe('virbr3');
    expect(checksumFilterBridge({ program: 'tc', args: tcChecksumFilter('add', 'virbr3') })).toBeUndefined();
    expect(checksumFilterBridge({ program: 'nft', args: tcChecksumFilter('del', 'virbr3') })).toBeUndefined();
    expect(checksumFilterAdd('virbr3')).toBe('tc filter add dev virbr3 prio 2 protocol ip parent 1: u32 match ip dport 68 ffff action csum ip and udp');
  });
});
