// What both backends decide the same way (libvirt's network_iptables.c / network_nftables.c): which <ip> gets which rule set, the
// network's NET text, the NAT port range and SNAT target.
import { networkCidr } from '../definition/ip.js';
import type { IpDef, IpFamily, NetworkDef } from '../definition/types.js';
import { VnetfwError } from '../errors.js';

export const DEFAULT_PORT_START = 1024;
export const DEFAULT_PORT_END = 65535;

export const netOf = (ip: IpDef): string => networkCidr(ip.address, ip.prefix, ip.family);

export const hasFamily = (def: NetworkDef, family: IpFamily): boolean => def.ips.some((ip) => ip.family === family);

// The general IPv6 rules exist when there is an IPv6 <ip> or <network ipv6='yes'>.
export const wantsGeneralIPv6 = (def: NetworkDef): boolean => hasFamily(def, 'ipv6') || def.ipv6;

export type IpRuleSet = 'masquerade' | 'routing' | undefined;

// NAT networks masquerade IPv4 (and IPv6 with <nat ipv6='yes'>) and route the rest of IPv6.
export const ruleSetFor = (def: NetworkDef, ip: IpDef): IpRuleSet => {
  if (def.forward.mode === 'nat') {
    if (ip.family === 'ipv4' || def.forward.nat?.ipv6 === true) return 'masquerade';
    return 'routing';
  }
  if (def.forward.mode === 'route') return 'routing';
  return undefined;
};

// libvirt's condition for the TFTP rules: the first IPv4 <ip> with DHCP ranges/hosts or <tftp>
// decides, and only its <tftp> counts.
export const wantsTftp = (def: NetworkDef): boolean => {
  const first = def.ips.find((ip) => ip.family === 'ipv4' && (ip.dhcpRanges.length > 0 || ip.dhcpHosts.length > 0 || ip.tftpRoot !== undefined));
  return first?.tftpRoot !== undefined;
};

// DHCP checksum fix: any IPv4 <ip> with DHCP ranges or hosts (tftp alone does not count).
export const wantsChecksum = (def: NetworkDef): boolean =>
  def.ips.some((ip) => ip.family === 'ipv4' && (ip.dhcpRanges.length > 0 || ip.dhcpHosts.length > 0));

export const portRange = (def: NetworkDef): { start: number; end: number } => {
  const nat = def.forward.nat;
  let start = nat?.portStart ?? 0;
  let end = nat?.portEnd ?? 0;
  if (start === 0 && end === 0) { start = DEFAULT_PORT_START; end = DEFAULT_PORT_END; }
  if (!(start < end && end < 65536)) throw new VnetfwError('EFW_PORT', `Invalid port range '${start}-${end}'.`, { exitCode: 2 });
  return { start, end };
};

// `A[-B]` when <nat><address> applies to this <ip>'s family (nat addresses are IPv4 only).
export const snatAddress = (def: NetworkDef, ip: IpDef): string | undefined => {
  const nat = def.forward.nat;
  if (nat?.addressStart === undefined || ip.family !== 'ipv4') return undefined;
  return nat.addressEnd === undefined ? nat.addressStart : `${nat.addressStart}-${nat.addressEnd}`;
};

export const multicastOf = (family: IpFamily): string => (family === 'ipv4' ? '224.0.0.0/24' : 'ff02::/16');
