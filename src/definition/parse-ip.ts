// <ip> elements: address, prefix or netmask, family, <dhcp> ranges and hosts, <tftp>.
import { DefinitionError } from './errors.js';
import { bitsOf, formatAddress, inSubnet, networkCidr, parseAddress, parseIPv4, prefixOfNetmask } from './ip.js';
import type { DhcpHost, DhcpRange, IpDef, IpFamily } from './types.js';
import { attr, children, child, type XNode } from '../xml/index.js';

const fail = (code: string, msg: string): never => { throw new DefinitionError(code, msg); };

// libvirt's default when neither prefix nor netmask is given: the classful prefix for IPv4, 64 for IPv6.
const defaultPrefix = (file: string, address: string, value: bigint, family: IpFamily): number => {
  if (family === 'ipv6') return 64;
  const first = Number(value >> 24n);
  if (first < 128) return 8;
  if (first < 192) return 16;
  if (first < 224) return 24;
  return fail('EDEF_IP', `${file}: ip address '${address}' is invalid: no prefix or netmask given and it has no default class prefix`);
};

const parseAddr = (file: string, field: string, s: string, family: IpFamily): bigint => {
  const v = parseAddress(s, family);
  if (v === undefined) fail('EDEF_IP', `${file}: ${field} '${s}' is invalid: not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
  return v as bigint;
};

// Addresses are stored in canonical text form so rules print them the way libvirt does.
const canon = (v: bigint, family: IpFamily): string => formatAddress(v, family);

const parsePrefix = (file: string, node: XNode, address: string, value: bigint, family: IpFamily): number => {
  const prefixAttr = attr(node, 'prefix');
  const netmask = attr(node, 'netmask');
  if (prefixAttr !== undefined && netmask !== undefined) {
    fail('EDEF_IP', `${file}: ip '${address}' is invalid: both prefix '${prefixAttr}' and netmask '${netmask}' given`);
  }
  if (netmask !== undefined) {
    if (family === 'ipv6') fail('EDEF_IP', `${file}: ip netmask '${netmask}' is invalid: netmask is only allowed for ipv4, use prefix`);
    const m = parseIPv4(netmask);
    if (m === undefined) fail('EDEF_IP', `${file}: ip netmask '${netmask}' is invalid: not an IPv4 netmask`);
    const p = prefixOfNetmask(m as bigint, 'ipv4');
    if (p === undefined || p === 0) fail('EDEF_IP', `${file}: ip netmask '${netmask}' is invalid: not a contiguous netmask`);
    return p as number;
  }
  if (prefixAttr !== undefined) {
    const max = bitsOf(family);
    if (!/^\d{1,3}$/.test(prefixAttr) || Number(prefixAttr) < 1 || Number(prefixAttr) > max) {
      fail('EDEF_IP', `${file}: ip prefix '${prefixAttr}' is invalid: must be 1-${max} for ${family}`);
    }
    return Number(prefixAttr);
  }
  return defaultPrefix(file, address, value, family);
};

const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

export const parseIp = (file: string, node: XNode): IpDef => {
  const familyAttr = attr(node, 'family');
  if (familyAttr !== undefined && familyAttr !== 'ipv4' && familyAttr !== 'ipv6') {
    fail('EDEF_IP', `${file}: ip family '${familyAttr}' is invalid: must be ipv4 or ipv6`);
  }
  const family: IpFamily = familyAttr === 'ipv6' ? 'ipv6' : 'ipv4';
  const address = attr(node, 'address');
  if (address === undefined || address === '') return fail('EDEF_IP', `${file}: ip address is missing: <ip> needs address='...'`);
  const value = parseAddr(file, 'ip address', address, family);
  const prefix = parsePrefix(file, node, address, value, family);
  const subnet = networkCidr(canon(value, family), prefix, family);
  const inside = (field: string, s: string): bigint => {
    const v = parseAddr(file, field, s, family);
    if (!inSubnet(v, value, prefix, family)) fail('EDEF_DHCP', `${file}: ${field} '${s}' is invalid: outside the subnet ${subnet}`);
    return v;
  };

  const dhcpRanges: DhcpRange[] = [];
  const dhcpHosts: DhcpHost[] = [];
  for (const dhcp of children(node, 'dhcp')) {
    for (const r of children(dhcp, 'range')) {
      const start = attr(r, 'start');
      const end = attr(r, 'end');
      if (start === undefined || end === undefined) fail('EDEF_DHCP', `${file}: dhcp range in ip '${address}' is invalid: start and end are required`);
      const s = inside('dhcp range start', start as string);
      const e = inside('dhcp range end', end as string);
      if (s > e) fail('EDEF_DHCP', `${file}: dhcp range '${start}-${end}' is invalid: start is after end`);
      dhcpRanges.push({ start: canon(s, family), end: canon(e, family) });
    }
    for (const h of children(dhcp, 'host')) {
      const host: DhcpHost = {};
      const mac = attr(h, 'mac');
      const ip = attr(h, 'ip');
      const name = attr(h, 'name');
      const id = attr(h, 'id');
      if (mac !== undefined) {
        if (!MAC.test(mac)) fail('EDEF_DHCP', `${file}: dhcp host mac '${mac}' is invalid: not a MAC address`);
        host.mac = mac.toLowerCase();
      }
      if (ip !== undefined) host.ip = canon(inside('dhcp host ip', ip), family);
      if (name !== undefined) host.name = name;
      if (id !== undefined) host.id = id;
      dhcpHosts.push(host);
    }
  }
  const ip: IpDef = { family, address: canon(value, family), prefix, dhcpRanges, dhcpHosts };
  const tftp = child(node, 'tftp');
  if (tftp !== undefined) {
    if (family === 'ipv6') fail('EDEF_IP', `${file}: tftp in ip '${address}' is invalid: tftp is only supported for ipv4`);
    const root = attr(tftp, 'root');
    if (root === undefined || root === '') fail('EDEF_IP', `${file}: tftp root is missing in ip '${address}'`);
    ip.tftpRoot = root as string;
  }
  return ip;
};
