// libvirt network XML -> validated NetworkDef. Only what the firewall and the bridge need is read;
// other elements (dns, domain, route, ...) are ignored, as a libvirt definition may carry them.
import { DefinitionError } from './errors.js';
import { parseIPv4 } from './ip.js';
import { checkInterfaceName, checkNetworkName } from './names.js';
import { parseIp } from './parse-ip.js';
import { readUntrustedFile } from './read-file.js';
import type { ForwardMode, NatDef, NetworkDef } from './types.js';
import { attr, child, children, parseSafeXml, textOf, type XNode } from '../xml/index.js';

export const MAX_DEFINITION_BYTES = 1024 * 1024;

const fail = (code: string, msg: string): never => { throw new DefinitionError(code, msg); };

const yesNo = (file: string, field: string, v: string | undefined): boolean => {
  if (v === undefined || v === 'no') return false;
  if (v === 'yes') return true;
  return fail('EDEF_VALUE', `${file}: ${field} '${v}' is invalid: must be yes or no`);
};

const UNSUPPORTED_MODES = new Set(['bridge', 'private', 'vepa', 'passthrough', 'hostdev']);

const parseForwardMode = (file: string, fwd: XNode | undefined): ForwardMode => {
  if (fwd === undefined) return 'none';
  const mode = attr(fwd, 'mode');
  if (mode === undefined) return 'nat';
  if (mode === 'nat' || mode === 'route' || mode === 'open') return mode;
  if (UNSUPPORTED_MODES.has(mode)) {
    fail('EDEF_FORWARD', `${file}: forward mode '${mode}' is not supported: vnetfw handles nat, route, open and isolated (no <forward>) networks`);
  }
  return fail('EDEF_FORWARD', `${file}: forward mode '${mode}' is invalid: must be nat, route or open (or no <forward> for an isolated network)`);
};

const portNumber = (file: string, field: string, v: string | undefined): number => {
  if (v === undefined) return 0;
  if (!/^\d{1,10}$/.test(v)) fail('EDEF_NAT', `${file}: ${field} '${v}' is invalid: not a port number`);
  return Number(v);
};

const parseNat = (file: string, nat: XNode): NatDef => {
  const def: NatDef = { ipv6: yesNo(file, 'nat ipv6', attr(nat, 'ipv6')) };
  const addresses = children(nat, 'address');
  const ports = children(nat, 'port');
  if (addresses.length > 1) fail('EDEF_NAT', `${file}: nat address is invalid: only one <address> is allowed in <nat>`);
  if (ports.length > 1) fail('EDEF_NAT', `${file}: nat port is invalid: only one <port> is allowed in <nat>`);
  const address = addresses[0];
  if (address !== undefined) {
    const start = attr(address, 'start');
    const end = attr(address, 'end');
    if (start === undefined) fail('EDEF_NAT', `${file}: nat address is invalid: start is required`);
    const s = parseIPv4(start as string);
    if (s === undefined) fail('EDEF_NAT', `${file}: nat address start '${start}' is invalid: not an IPv4 address`);
    def.addressStart = start as string;
    if (end !== undefined) {
      const e = parseIPv4(end);
      if (e === undefined) fail('EDEF_NAT', `${file}: nat address end '${end}' is invalid: not an IPv4 address`);
      if ((s as bigint) > (e as bigint)) fail('EDEF_NAT', `${file}: nat address range '${start}-${end}' is invalid: start is after end`);
      def.addressEnd = end;
    }
  }
  const port = ports[0];
  if (port !== undefined) {
    const start = portNumber(file, 'nat port start', attr(port, 'start'));
    const end = portNumber(file, 'nat port end', attr(port, 'end'));
    // Both 0 (or absent) means "the default range", as in libvirt.
    if (start !== 0 || end !== 0) {
      if (!(start < end && end < 65536)) fail('EDEF_NAT', `${file}: nat port: Invalid port range '${start}-${end}'.`);
      def.portStart = start;
      def.portEnd = end;
    }
  }
  return def;
};

const parseBridge = (file: string, root: XNode): NetworkDef['bridge'] => {
  const bridge = child(root, 'bridge');
  const name = attr(bridge, 'name');
  if (name === undefined) return fail('EDEF_BRIDGE', `${file}: bridge name is missing: vnetfw needs <bridge name='...'/>`);
  checkInterfaceName(file, 'bridge name', name, 'EDEF_BRIDGE');
  const stpAttr = attr(bridge, 'stp');
  if (stpAttr !== undefined && stpAttr !== 'on' && stpAttr !== 'off') fail('EDEF_BRIDGE', `${file}: bridge stp '${stpAttr}' is invalid: must be on or off`);
  const delayAttr = attr(bridge, 'delay');
  if (delayAttr !== undefined && !/^\d{1,6}$/.test(delayAttr)) fail('EDEF_BRIDGE', `${file}: bridge delay '${delayAttr}' is invalid: not a number of seconds`);
  // libvirt's schema for the firewalld zone: letters, digits, '_' and '-' (it becomes an argv).
  const zone = attr(bridge, 'zone');
  if (zone !== undefined && !/^[a-zA-Z0-9_-]+$/.test(zone)) fail('EDEF_BRIDGE', `${file}: bridge zone '${zone}' is invalid: only letters, digits, '_' and '-'`);
  return { name, stp: stpAttr !== 'off', delay: delayAttr === undefined ? 0 : Number(delayAttr), ...(zone === undefined ? {} : { zone }) };
};

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export const parseNetworkXml = (text: string, file: string): NetworkDef => {
  if (Buffer.byteLength(text, 'utf8') > MAX_DEFINITION_BYTES) fail('EDEF_FILE', `${file}: file is larger than 1 MiB`);
  const doc = parseSafeXml(text, file, { trimValues: true, fail: (m) => new DefinitionError('EDEF_XML', m) });
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?') && k !== '#text');
  const root = child(doc, 'network');
  if (root === undefined || roots.length !== 1) return fail('EDEF_XML', `${file}: root element is not <network>`);

  const name = textOf(child(root, 'name'))?.trim();
  if (name === undefined) return fail('EDEF_NAME', `${file}: network name is missing: <name> is required`);
  checkNetworkName(file, name);

  const def: NetworkDef = {
    name,
    bridge: parseBridge(file, root),
    forward: { mode: 'none' },
    ipv6: yesNo(file, 'network ipv6', attr(root, 'ipv6')),
    ips: [],
  };
  const uuid = textOf(child(root, 'uuid'))?.trim();
  if (uuid !== undefined) {
    if (!UUID.test(uuid)) fail('EDEF_UUID', `${file}: uuid '${uuid}' is invalid: not a UUID`);
    const hex = uuid.replace(/-/g, '').toLowerCase();
    def.uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const mac = attr(child(root, 'mac'), 'address');
  if (mac !== undefined) {
    if (!/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(mac)) fail('EDEF_MAC', `${file}: mac address '${mac}' is invalid: not a MAC address`);
    if ((parseInt(mac.slice(0, 2), 16) & 1) === 1) fail('EDEF_MAC', `${file}: mac address '${mac}' is invalid: multicast addresses are not allowed`);
    def.mac = mac.toLowerCase();
  }
  const mtuNode = child(root, 'mtu');
  if (mtuNode !== undefined) {
    const size = attr(mtuNode, 'size');
    if (size === undefined || !/^\d{1,5}$/.test(size) || Number(size) < 68 || Number(size) > 65535) {
      fail('EDEF_MTU', `${file}: mtu size '${size ?? ''}' is invalid: must be 68-65535`);
    }
    def.mtu = Number(size);
  }

  const fwd = child(root, 'forward');
  const mode = parseForwardMode(file, fwd);
  def.forward = { mode };
  if (fwd !== undefined) {
    const dev = attr(fwd, 'dev') ?? attr(child(fwd, 'interface'), 'dev');
    if (dev !== undefined) {
      checkInterfaceName(file, 'forward dev', dev, 'EDEF_FORWARD');
      def.forward.dev = dev;
    }
    const nat = child(fwd, 'nat');
    if (nat !== undefined) {
      if (mode !== 'nat') fail('EDEF_NAT', `${file}: forward mode '${mode}' is invalid with <nat>: <nat> needs mode='nat'`);
      def.forward.nat = parseNat(file, nat);
    }
  }

  def.ips = children(root, 'ip').map((n) => parseIp(file, n));
  for (const family of ['ipv4', 'ipv6'] as const) {
    const withDhcp = def.ips.filter((ip) => ip.family === family && (ip.dhcpRanges.length > 0 || ip.dhcpHosts.length > 0));
    if (withDhcp.length > 1) {
      fail('EDEF_DHCP', `${file}: dhcp in ip '${withDhcp[1]?.address ?? ''}' is invalid: dhcp is supported for only one ${family} address per network`);
    }
  }
  return def;
};

// The definition and the exact text it was parsed from: `define` records these same bytes.
export const readNetworkFile = async (path: string): Promise<{ def: NetworkDef; xml: string }> => {
  const xml = await readUntrustedFile(path, MAX_DEFINITION_BYTES);
  return { def: parseNetworkXml(xml, path), xml };
};

export const loadNetworkFile = async (path: string): Promise<NetworkDef> => (await readNetworkFile(path)).def;
