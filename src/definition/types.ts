// The validated, normalised form of a libvirt network definition. Everything downstream (rules,
// plumbing, the event log) works from this, never from the XML.
export type ForwardMode = 'none' | 'nat' | 'route' | 'open';
export type IpFamily = 'ipv4' | 'ipv6';

export interface DhcpRange { start: string; end: string }
export interface DhcpHost { mac?: string; name?: string; ip?: string; id?: string }

export interface IpDef {
  family: IpFamily;
  address: string;          // the host's address on the bridge, e.g. 192.168.122.1
  prefix: number;           // from prefix= or a contiguous netmask=
  dhcpRanges: DhcpRange[];
  dhcpHosts: DhcpHost[];
  tftpRoot?: string;
}

export interface NatDef {
  addressStart?: string;
  addressEnd?: string;
  portStart?: number;       // defaults applied by the rules (1024-65535), not here
  portEnd?: number;
  ipv6: boolean;            // <nat ipv6='yes'>
}

export interface NetworkDef {
  name: string;
  uuid?: string;
  bridge: { name: string; stp: boolean; delay: number; zone?: string };   // zone: firewalld zone (<bridge zone='...'/>)
  mac?: string;
  mtu?: number;
  forward: { mode: ForwardMode; dev?: string; nat?: NatDef };
  ipv6: boolean;            // <network ipv6='yes'>
  ips: IpDef[];             // document order
}
