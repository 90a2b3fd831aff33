// Networks beyond libvirt's fixtures. Expected text written by hand from libvirt's network_iptables.c / network_nftables.c, not
// copied from the implementation's output.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetworkXml } from '../../../src/definition/index.js';
import { buildRules, formatShell, ruleCommands, type Backend } from '../../../src/firewall/index.js';

const load = (name: string) => parseNetworkXml(readFileSync(new URL(`../../fixtures/extra/${name}.xml`, import.meta.url), 'utf8'), `${name}.xml`);
const lines = (name: string, backend: Backend): string[] => ruleCommands(buildRules(load(name), backend)).map(formatShell);

const ipt = (s: string): string => `iptables -w --table ${s}`;
const ip6t = (s: string): string => `ip6tables -w --table ${s}`;
const nft = (s: string): string => `nft -ae insert rule ${s}`;

const iptGeneral4 = (br: string, tftp = false): string[] => [
  ipt(`filter --insert LIBVIRT_INP --in-interface ${br} --protocol tcp --destination-port 67 --jump ACCEPT`),
  ipt(`filter --insert LIBVIRT_INP --in-interface ${br} --protocol udp --destination-port 67 --jump ACCEPT`),
  ipt(`filter --insert LIBVIRT_OUT --out-interface ${br} --protocol tcp --destination-port 68 --jump ACCEPT`),
  ipt(`filter --insert LIBVIRT_OUT --out-interface ${br} --protocol udp --destination-port 68 --jump ACCEPT`),
  ipt(`filter --insert LIBVIRT_INP --in-interface ${br} --protocol tcp --destination-port 53 --jump ACCEPT`),
  ipt(`filter --insert LIBVIRT_INP --in-interface ${br} --protocol udp --destination-port 53 --jump ACCEPT`),
  ipt(`filter --insert LIBVIRT_OUT --out-interface ${br} --protocol tcp --destination-port 53 --jump ACCEPT`),
  ipt(`filter --insert LIBVIRT_OUT --out-interface ${br} --protocol udp --destination-port 53 --jump ACCEPT`),
  ...(tftp ? [
    ipt(`filter --insert LIBVIRT_INP --in-interface ${br} --protocol udp --destination-port 69 --jump ACCEPT`),
    ipt(`filter --insert LIBVIRT_OUT --out-interface ${br} --protocol udp --destination-port 69 --jump ACCEPT`),
  ] : []),
  ipt(`filter --insert LIBVIRT_FWO --in-interface ${br} --jump REJECT`),
  ipt(`filter --insert LIBVIRT_FWI --out-interface ${br} --jump REJECT`),
  ipt(`filter --insert LIBVIRT_FWX --in-interface ${br} --out-interface ${br} --jump ACCEPT`),
];
const iptGeneral6 = (br: string, withIp: boolean): string[] => [
  ip6t(`filter --insert LIBVIRT_FWO --in-interface ${br} --jump REJECT`),
  ip6t(`filter --insert LIBVIRT_FWI --out-interface ${br} --jump REJECT`),
  ip6t(`filter --insert LIBVIRT_FWX --in-interface ${br} --out-interface ${br} --jump ACCEPT`),
  ...(withIp ? [
    ip6t(`filter --insert LIBVIRT_INP --in-interface ${br} --protocol tcp --destination-port 53 --jump ACCEPT`),
    ip6t(`filter --insert LIBVIRT_INP --in-interface ${br} --protocol udp --destination-port 53 --jump ACCEPT`),
    ip6t(`filter --insert LIBVIRT_OUT --out-interface ${br} --protocol tcp --destination-port 53 --jump ACCEPT`),
    ip6t(`filter --insert LIBVIRT_OUT --out-interface ${br} --protocol udp --destination-port 53 --jump ACCEPT`),
    ip6t(`filter --insert LIBVIRT_INP --in-interface ${br} --protocol udp --destination-port 547 --jump ACCEPT`),
    ip6t(`filter --insert LIBVIRT_OUT --out-interface ${br} --protocol udp --destination-port 546 --jump ACCEPT`),
  ] : []),
];
const nftGeneral = (fam: string, br: string): string[] => [
  nft(`${fam} libvirt_network guest_output iif ${br} counter reject`),
  nft(`${fam} libvirt_network guest_input oif ${br} counter reject`),
  nft(`${fam} libvirt_network guest_cross iif ${br} oif ${br} counter accept`),
];

describe("extra cases written from libvirt's rule builders", () => {
  it('forward dev (nat): iptables', () => {
    const n = '192.168.122.0/24';
    expect(lines('forward-dev', 'iptables')).toEqual([
      ...iptGeneral4('virbr1'),
      ipt(`filter --insert LIBVIRT_FWO --source ${n} --in-interface virbr1 --out-interface vfwup0 --jump ACCEPT`),
      ipt(`filter --insert LIBVIRT_FWI --destination ${n} --in-interface vfwup0 --out-interface virbr1 --match conntrack --ctstate ESTABLISHED,RELATED --jump ACCEPT`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} '!' --destination ${n} --out-interface vfwup0 --jump MASQUERADE`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} -p udp '!' --destination ${n} --out-interface vfwup0 --jump MASQUERADE --to-ports 1024-65535`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} -p tcp '!' --destination ${n} --out-interface vfwup0 --jump MASQUERADE --to-ports 1024-65535`),
      ipt(`nat --insert LIBVIRT_PRT --out-interface vfwup0 --source ${n} --destination 255.255.255.255/32 --jump RETURN`),
      ipt(`nat --insert LIBVIRT_PRT --out-interface vfwup0 --source ${n} --destination 224.0.0.0/24 --jump RETURN`),
      ipt('mangle --insert LIBVIRT_PRT --out-interface virbr1 --protocol udp --destination-port 68 --jump CHECKSUM --checksum-fill'),
    ]);
  });
  it('forward dev (nat): nftables uses iifname/oifname for the device', () => {
    const n = '192.168.122.0/24';
    expect(lines('forward-dev', 'nftables')).toEqual([
      ...nftGeneral('ip', 'virbr1'),
      nft(`ip libvirt_network guest_output ip saddr ${n} iif virbr1 oifname vfwup0 counter accept`),
      nft(`ip libvirt_network guest_input iifname vfwup0 oif virbr1 ip daddr ${n} ct state related,established counter accept`),
      nft(`ip libvirt_network guest_nat ip saddr ${n} ip daddr '!=' ${n} oifname vfwup0 counter masquerade`),
      nft(`ip libvirt_network guest_nat meta l4proto udp ip saddr ${n} ip daddr '!=' ${n} oifname vfwup0 counter masquerade to :1024-65535`),
      nft(`ip libvirt_network guest_nat meta l4proto tcp ip saddr ${n} ip daddr '!=' ${n} oifname vfwup0 counter masquerade to :1024-65535`),
      nft(`ip libvirt_network guest_nat oifname vfwup0 ip saddr ${n} ip daddr 255.255.255.255/32 counter return`),
      nft(`ip libvirt_network guest_nat oifname vfwup0 ip saddr ${n} ip daddr 224.0.0.0/24 counter return`),
      nft('ip libvirt_network postroute_mangle oif virbr1 udp dport 68 counter udp checksum set 0'),
    ]);
  });
  it('nat port range applies to the udp/tcp rules only; no DHCP, no checksum rule', () => {
    const n = '10.50.0.0/16';
    expect(lines('nat-port-range', 'iptables').slice(-6, -1)).toEqual([
      ipt(`filter --insert LIBVIRT_FWI --destination ${n} --out-interface virbr2 --match conntrack --ctstate ESTABLISHED,RELATED --jump ACCEPT`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} '!' --destination ${n} --jump MASQUERADE`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} -p udp '!' --destination ${n} --jump MASQUERADE --to-ports 500-1000`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} -p tcp '!' --destination ${n} --jump MASQUERADE --to-ports 500-1000`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} --destination 255.255.255.255/32 --jump RETURN`),
    ]);
    expect(lines('nat-port-range', 'nftables').slice(-4, -2)).toEqual([
      nft(`ip libvirt_network guest_nat meta l4proto udp ip saddr ${n} ip daddr '!=' ${n} counter masquerade to :500-1000`),
      nft(`ip libvirt_network guest_nat meta l4proto tcp ip saddr ${n} ip daddr '!=' ${n} counter masquerade to :500-1000`),
    ]);
    expect(lines('nat-port-range', 'nftables').some((l) => l.includes('postroute_mangle'))).toBe(false);
  });
  it('SNAT address range replaces masquerade', () => {
    const n = '10.50.1.0/24';
    expect(lines('nat-snat', 'iptables').slice(-5, -2)).toEqual([
      ipt(`nat --insert LIBVIRT_PRT --source ${n} '!' --destination ${n} --jump SNAT --to-source 203.0.113.10-203.0.113.20`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} -p udp '!' --destination ${n} --jump SNAT --to-source 203.0.113.10-203.0.113.20:2000-3000`),
      ipt(`nat --insert LIBVIRT_PRT --source ${n} -p tcp '!' --destination ${n} --jump SNAT --to-source 203.0.113.10-203.0.113.20:2000-3000`),
    ]);
    expect(lines('nat-snat', 'nftables').slice(-5, -2)).toEqual([
      nft(`ip libvirt_network guest_nat ip saddr ${n} ip daddr '!=' ${n} counter snat to 203.0.113.10-203.0.113.20`),
      nft(`ip libvirt_network guest_nat meta l4proto udp ip saddr ${n} ip daddr '!=' ${n} counter snat to 203.0.113.10-203.0.113.20:2000-3000`),
      nft(`ip libvirt_network guest_nat meta l4proto tcp ip saddr ${n} ip daddr '!=' ${n} counter snat to 203.0.113.10-203.0.113.20:2000-3000`),
    ]);
  });
  it("nat ipv6='yes' masquerades IPv6 (no broadcast rule, ff02::/16)", () => {
    const n = '2001:db8:0:5::/64';
    expect(lines('nat-ipv6-yes', 'iptables')).toEqual([
      ...iptGeneral4('virbr4'), ...iptGeneral6('virbr4', true),
      ip6t(`filter --insert LIBVIRT_FWO --source ${n} --in-interface virbr4 --jump ACCEPT`),
      ip6t(`filter --insert LIBVIRT_FWI --destination ${n} --out-interface virbr4 --match conntrack --ctstate ESTABLISHED,RELATED --jump ACCEPT`),
      ip6t(`nat --insert LIBVIRT_PRT --source ${n} '!' --destination ${n} --jump MASQUERADE`),
      ip6t(`nat --insert LIBVIRT_PRT --source ${n} -p udp '!' --destination ${n} --jump MASQUERADE --to-ports 1024-65535`),
      ip6t(`nat --insert LIBVIRT_PRT --source ${n} -p tcp '!' --destination ${n} --jump MASQUERADE --to-ports 1024-65535`),
      ip6t(`nat --insert LIBVIRT_PRT --source ${n} --destination ff02::/16 --jump RETURN`),
    ]);
    expect(lines('nat-ipv6-yes', 'nftables')).toEqual([
      ...nftGeneral('ip', 'virbr4'), ...nftGeneral('ip6', 'virbr4'),
      nft(`ip6 libvirt_network guest_output ip6 saddr ${n} iif virbr4 counter accept`),
      nft(`ip6 libvirt_network guest_input oif virbr4 ip6 daddr ${n} ct state related,established counter accept`),
      nft(`ip6 libvirt_network guest_nat ip6 saddr ${n} ip6 daddr '!=' ${n} counter masquerade`),
      nft(`ip6 libvirt_network guest_nat meta l4proto udp ip6 saddr ${n} ip6 daddr '!=' ${n} counter masquerade to :1024-65535`),
      nft(`ip6 libvirt_network guest_nat meta l4proto tcp ip6 saddr ${n} ip6 daddr '!=' ${n} counter masquerade to :1024-65535`),
      nft(`ip6 libvirt_network guest_nat ip6 saddr ${n} ip6 daddr ff02::/16 counter return`),
    ]);
  });
  it('route with a device and IPv6; tftp alone opens port 69 but adds no checksum rule', () => {
    const n4 = '10.50.2.0/24';
    const n6 = '2001:db8:0:6::/64';
    expect(lines('route-ipv6', 'iptables')).toEqual([
      ...iptGeneral4('virbr5', true), ...iptGeneral6('virbr5', true),
      ipt(`filter --insert LIBVIRT_FWO --source ${n4} --in-interface virbr5 --out-interface vfwup1 --jump ACCEPT`),
      ipt(`filter --insert LIBVIRT_FWI --destination ${n4} --in-interface vfwup1 --out-interface virbr5 --jump ACCEPT`),
      ip6t(`filter --insert LIBVIRT_FWO --source ${n6} --in-interface virbr5 --out-interface vfwup1 --jump ACCEPT`),
      ip6t(`filter --insert LIBVIRT_FWI --destination ${n6} --in-interface vfwup1 --out-interface virbr5 --jump ACCEPT`),
    ]);
    expect(lines('route-ipv6', 'nftables')).toEqual([
      ...nftGeneral('ip', 'virbr5'), ...nftGeneral('ip6', 'virbr5'),
      nft(`ip libvirt_network guest_output ip saddr ${n4} iif virbr5 oifname vfwup1 counter accept`),
      nft(`ip libvirt_network guest_input ip daddr ${n4} iifname vfwup1 oif virbr5 counter accept`),
      nft(`ip6 libvirt_network guest_output ip6 saddr ${n6} iif virbr5 oifname vfwup1 counter accept`),
      nft(`ip6 libvirt_network guest_input ip6 daddr ${n6} iifname vfwup1 oif virbr5 counter accept`),
    ]);
  });
  it('open: no rules at all', () => {
    expect(lines('open', 'iptables')).toEqual([]);
    expect(lines('open', 'nftables')).toEqual([]);
  });
  it("network ipv6='yes' without an IPv6 address: IPv6 forward rules only", () => {
    expect(lines('isolated-ipv6-yes', 'iptables')).toEqual([...iptGeneral4('virbr7'), ...iptGeneral6('virbr7', false)]);
    expect(lines('isolated-ipv6-yes', 'nftables')).toEqual([...nftGeneral('ip', 'virbr7'), ...nftGeneral('ip6', 'virbr7')]);
  });
});
