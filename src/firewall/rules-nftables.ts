// libvirt's nftables rules for one network (libvirt's src/network/network_nftables.c; the DHCP checksum rule as libvirt 10.4 to 10.x writes it): every
// rule `insert rule <fam> libvirt_network <chain> ...`; no host INPUT/OUTPUT rules.
import type { IpDef, IpFamily, NetworkDef } from '../definition/types.js';
import type { FwCommand, FwGroup, FwRuleSet } from './model.js';
import { multicastOf, netOf, portRange, ruleSetFor, snatAddress, wantsChecksum, wantsGeneralIPv6 } from './rules-common.js';

export const NFT_TABLE = 'libvirt_network';
export const nftFamily = (family: IpFamily): 'ip' | 'ip6' => (family === 'ipv4' ? 'ip' : 'ip6');

const rule = (family: IpFamily, chain: string, rest: string[]): FwCommand => ({
  program: 'nft', args: ['insert', 'rule', nftFamily(family), NFT_TABLE, chain, ...rest], autoRollback: true,
});

const opt = (key: string, v: string | undefined): string[] => (v === undefined ? [] : [key, v]);

const general = (family: IpFamily, br: string): FwCommand[] => [
  rule(family, 'guest_output', ['iif', br, 'counter', 'reject']),
  rule(family, 'guest_input', ['oif', br, 'counter', 'reject']),
  rule(family, 'guest_cross', ['iif', br, 'oif', br, 'counter', 'accept']),
];

const masquerade = (def: NetworkDef, ip: IpDef, proto: 'udp' | 'tcp' | undefined): FwCommand => {
  const fam = nftFamily(ip.family);
  const net = netOf(ip);
  const ports = proto === undefined ? undefined : portRange(def);
  const portText = ports === undefined ? '' : `:${ports.start}-${ports.end}`;
  const snat = snatAddress(def, ip);
  const target = snat !== undefined
    ? ['counter', 'snat', 'to', `${snat}${portText}`]
    : ['counter', 'masquerade', ...(ports === undefined ? [] : ['to', portText])];
  return rule(ip.family, 'guest_nat', [
    ...(proto === undefined ? [] : ['meta', 'l4proto', proto]),
    fam, 'saddr', net, fam, 'daddr', '!=', net, ...opt('oifname', def.forward.dev), ...target,
  ]);
};

const dontMasquerade = (def: NetworkDef, ip: IpDef, destination: string): FwCommand => {
  const fam = nftFamily(ip.family);
  return rule(ip.family, 'guest_nat', [...opt('oifname', def.forward.dev), fam, 'saddr', netOf(ip), fam, 'daddr', destination, 'counter', 'return']);
};

const perIp = (def: NetworkDef, ip: IpDef): FwCommand[] => {
  const br = def.bridge.name;
  const dev = def.forward.dev;
  const fam = nftFamily(ip.family);
  const net = netOf(ip);
  const allowOut = rule(ip.family, 'guest_output', [fam, 'saddr', net, 'iif', br, ...opt('oifname', dev), 'counter', 'accept']);
  switch (ruleSetFor(def, ip)) {
    case 'masquerade':
      return [
        allowOut,
        rule(ip.family, 'guest_input', [...opt('iifname', dev), 'oif', br, fam, 'daddr', net, 'ct', 'state', 'related,established', 'counter', 'accept']),
        masquerade(def, ip, undefined), masquerade(def, ip, 'udp'), masquerade(def, ip, 'tcp'),
        ...(ip.family === 'ipv4' ? [dontMasquerade(def, ip, '255.255.255.255/32')] : []),
        dontMasquerade(def, ip, multicastOf(ip.family)),
      ];
    case 'routing':
      return [allowOut, rule(ip.family, 'guest_input', [fam, 'daddr', net, ...opt('iifname', dev), 'oif', br, 'counter', 'accept'])];
    default:
      return [];
  }
};

export const buildNftablesRules = (def: NetworkDef): FwRuleSet => {
  const groups: FwGroup[] = [];
  if (def.forward.mode !== 'open') {
    const br = def.bridge.name;
    const commands = [
      ...general('ipv4', br),
      ...(wantsGeneralIPv6(def) ? general('ipv6', br) : []),
      ...def.ips.flatMap((ip) => perIp(def, ip)),
    ];
    // Era-2 DHCP checksum fix (what libvirt's expected files show), part of the same group.
    if (wantsChecksum(def)) {
      commands.push(rule('ipv4', 'postroute_mangle', ['oif', br, 'udp', 'dport', '68', 'counter', 'udp', 'checksum', 'set', '0']));
    }
    groups.push({ ignoreErrors: false, commands });
  }
  return { backend: 'nftables', network: def.name, groups };
};
