// Which `nft monitor` lines concern vnetfw's own objects. The lines are as nft 1.0.6 printed them
// in a network namespace while nft and iptables-nft changed our tables and someone else's.
import { describe, expect, it } from 'vitest';
import { isOwnObjectEvent } from '../../../src/firewall/index.js';

const OURS = [
  'add table ip libvirt_network',
  'add chain ip libvirt_network guest_output',
  'add rule ip libvirt_network guest_output iifname "virbr0" accept',
  'delete rule ip libvirt_network guest_output handle 2',
  'delete chain ip6 libvirt_network guest_output',
  'delete table ip libvirt_network',
  'create chain ip filter LIBVIRT_FWO',
  'add rule ip filter LIBVIRT_FWO iifname "virbr0" counter packets 0 bytes 0 accept',
  'delete rule ip filter LIBVIRT_FWO handle 2',
  'add rule ip filter FORWARD counter packets 0 bytes 0 jump LIBVIRT_FWO',
  'delete chain ip filter LIBVIRT_FWO',
];
const NOT_OURS = [
  '# new generation 8 by process 14935 (iptables)',
  'add table inet hostfw',
  'add chain inet hostfw c',
  'add rule inet hostfw c accept',
  'delete rule inet hostfw c handle 2',
  'add table ip filter',
  'add chain ip filter FORWARD { type filter hook forward priority filter; policy accept; }',
  'add rule ip filter FORWARD counter packets 0 bytes 0 accept',
  'add rule ip nat POSTROUTING oifname "eth0" masquerade comment "libvirt_network"',
  '',
];

// Where vnetfw's neighbour integration lives: firewalld rebuilding its table (a reload or restart
// forgets the bridge's zone), Docker's DOCKER-USER, vnetfw's commented accept rules in a host table.
const NEIGHBOURS = [
  'add table inet firewalld',
  'delete table inet firewalld',
  'add rule inet firewalld filter_FORWARD_ZONES iifname "virbr0" goto filter_FWD_libvirt',
  'delete rule ip filter DOCKER-USER handle 5',
  'add rule inet nixos-fw input iifname "virbr0" tcp dport 53 accept comment "vnetfw virbr0"',
];

describe('isOwnObjectEvent', () => {
  it.each(NEIGHBOURS)('neighbour integration: %s', (line) => { expect(isOwnObjectEvent(line)).toBe(true); });
  it.each(OURS)('ours: %s', (line) => { expect(isOwnObjectEvent(line)).toBe(true); });
  it.each(NOT_OURS)('not ours: %s', (line) => { expect(isOwnObjectEvent(line)).toBe(false); });
});
