// Address arithmetic for validation and for the rules (which name the network, e.g.
// 192.168.122.0/24). Addresses are handled as bigints so IPv4 and IPv6 share one code path.
import type { IpFamily } from './types.js';

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

export const bitsOf = (family: IpFamily): number => (family === 'ipv4' ? 32 : 128);

export const parseIPv4 = (s: string): bigint | undefined => {
  const m = IPV4.exec(s);
  if (m === null) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
};

// RFC 4291 text forms, including '::' and a dotted IPv4 tail; no zone ids (not valid here).
export const parseIPv6 = (s: string): bigint | undefined => {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length > 45) return undefined;
  let text = s;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string | undefined): number[] | undefined => {
    if (h === undefined || h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = part(halves[0]);
  const rest = halves.length === 2 ? part(halves[1]) : [];
  if (head === undefined || rest === undefined) return undefined;
  const given = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  } else {
    if (given !== 8) return undefined;
    groups = [...head, ...tail];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
};

export const parseAddress = (s: string, family: IpFamily): bigint | undefined =>
  (family === 'ipv4' ? parseIPv4(s) : parseIPv6(s));

export const familyOf = (s: string): IpFamily | undefined =>
  (parseIPv4(s) !== undefined ? 'ipv4' : parseIPv6(s) !== undefined ? 'ipv6' : undefined);

// The text form inet_ntop produces (what libvirt prints): IPv6 lower case, the longest run of two
// or more zero groups (the first on a tie) compressed to '::'.
export const formatAddress = (v: bigint, family: IpFamily): string => {
  if (family === 'ipv4') return [24n, 16n, 8n, 0n].map((sh) => String((v >> sh) & 0xffn)).join('.');
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1; let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
};

export const maskOf = (prefix: number, family: IpFamily): bigint => {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
};

// Prefix length of a netmask, or undefined when its one bits are not contiguous.
export const prefixOfNetmask = (mask: bigint, family: IpFamily): number | undefined => {
  for (let p = 0; p <= bitsOf(family); p++) if (maskOf(p, family) === mask) return p;
  return undefined;
};

export const networkOf = (address: bigint, prefix: number, family: IpFamily): bigint => address & maskOf(prefix, family);

// libvirt's NET: the network address and prefix, e.g. 192.168.122.0/24 or 2001:db8:ca2:2::/64.
export const networkCidr = (address: string, prefix: number, family: IpFamily): string => {
  const v = parseAddress(address, family);
  if (v === undefined) throw new Error(`not an ${family} address: ${address}`);
  return `${formatAddress(networkOf(v, prefix, family), family)}/${prefix}`;
};

export const inSubnet = (candidate: bigint, address: bigint, prefix: number, family: IpFamily): boolean =>
  networkOf(candidate, prefix, family) === networkOf(address, prefix, family);
