// Every kind of bad input: the exact one-line message, the code and exit code 2.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefinitionError, loadNetworkFile, parseNetworkXml } from '../../../src/definition/index.js';

const net = (inner: string, attrs = ''): string => `<network${attrs}>${inner}</network>`;
const std = (rest: string, bridge = '<bridge name="virbr0"/>', name = '<name>n</name>'): string => net(`${name}${bridge}${rest}`);
const ip4 = (inner = '', a = 'address="192.168.122.1" netmask="255.255.255.0"'): string => `<ip ${a}>${inner}</ip>`;

const expectError = (xml: string, code: string, message: string): void => {
  let err: unknown;
  try { parseNetworkXml(xml, 'net.xml'); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(DefinitionError);
  expect((err as DefinitionError).message).toBe(message);
  expect((err as DefinitionError).code).toBe(code);
  expect((err as DefinitionError).exitCode).toBe(2);
  expect((err as DefinitionError).message).not.toContain('\n');
};

describe('definition errors', () => {
  const cases: Array<[string, string, string, string]> = [
    ['bridge whitespace', std('', '<bridge name="virbr 0"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'virbr 0' is invalid: U+0020 is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge slash', std('', '<bridge name="a/b"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'a/b' is invalid: '/' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge semicolon', std('', '<bridge name="a;b"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'a;b' is invalid: ';' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge quote', std('', `<bridge name="a'b"/>`), 'EDEF_BRIDGE', "net.xml: bridge name 'a'b' is invalid: ''' is not allowed: only letters, digits, '_', '.' and '-'"],
    // Patterns and syntax of the tools: iptables' '+' wildcard, nft sets, variables, named sets.
    ['bridge plus', std('', '<bridge name="+"/>'), 'EDEF_BRIDGE', "net.xml: bridge name '+' is invalid: '+' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge vir+', std('', '<bridge name="vir+"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'vir+' is invalid: '+' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge braces', std('', '<bridge name="{vr-a}"/>'), 'EDEF_BRIDGE', "net.xml: bridge name '{vr-a}' is invalid: '{' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge char refs', std('', '<bridge name="&#x7b;lo&#x7d;"/>'), 'EDEF_BRIDGE', "net.xml: bridge name '{lo}' is invalid: '{' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge star', std('', '<bridge name="vir*"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'vir*' is invalid: '*' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge percent', std('', '<bridge name="virbr%d"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'virbr%d' is invalid: '%' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge dollar', std('', '<bridge name="$br"/>'), 'EDEF_BRIDGE', "net.xml: bridge name '$br' is invalid: '$' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge at', std('', '<bridge name="@set"/>'), 'EDEF_BRIDGE', "net.xml: bridge name '@set' is invalid: '@' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge double quote', std('', `<bridge name='a"b'/>`), 'EDEF_BRIDGE', `net.xml: bridge name 'a"b' is invalid: '"' is not allowed: only letters, digits, '_', '.' and '-'`],
    ['bridge colon', std('', '<bridge name="eth0:1"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'eth0:1' is invalid: ':' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge backslash', std('', '<bridge name="a\\b"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'a\\b' is invalid: '\\' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge bang', std('', '<bridge name="!br"/>'), 'EDEF_BRIDGE', "net.xml: bridge name '!br' is invalid: '!' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge non-ascii', std('', '<bridge name="brü"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'brü' is invalid: 'ü' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge tab', std('', '<bridge name="a&#9;b"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'a\\x09b' is invalid: U+0009 is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge newline', std('', '<bridge name="a&#10;b"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'a\\x0ab' is invalid: U+000A is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge dash', std('', '<bridge name="-br"/>'), 'EDEF_BRIDGE', "net.xml: bridge name '-br' is invalid: must not start with '-'"],
    ['forward dev plus', std(`<forward mode="nat" dev="eth+"/>${ip4()}`), 'EDEF_FORWARD', "net.xml: forward dev 'eth+' is invalid: '+' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['forward interface dev braces', std(`<forward mode="route"><interface dev="{lo}"/></forward>${ip4()}`), 'EDEF_FORWARD', "net.xml: forward dev '{lo}' is invalid: '{' is not allowed: only letters, digits, '_', '.' and '-'"],
    ['bridge too long', std('', '<bridge name="virbr0123456789ab"/>'), 'EDEF_BRIDGE', "net.xml: bridge name 'virbr0123456789ab' is invalid: longer than 15 bytes"],
    ['bridge dot', std('', '<bridge name=".."/>'), 'EDEF_BRIDGE', "net.xml: bridge name '..' is invalid: '.' and '..' are not allowed"],
    ['bridge missing', std('', ''), 'EDEF_BRIDGE', "net.xml: bridge name is missing: vnetfw needs <bridge name='...'/>"],
    ['name slash', std('', undefined, '<name>a/b</name>'), 'EDEF_NAME', "net.xml: network name 'a/b' is invalid: no '/' allowed"],
    ['name dotdot', std('', undefined, '<name>a..b</name>'), 'EDEF_NAME', "net.xml: network name 'a..b' is invalid: '..' is not allowed"],
    ['name empty', std('', undefined, '<name></name>'), 'EDEF_NAME', "net.xml: network name '' is invalid: must not be empty"],
    ['name missing', std('', undefined, ''), 'EDEF_NAME', 'net.xml: network name is missing: <name> is required'],
    ['name charset', std('', undefined, '<name>a$b</name>'), 'EDEF_NAME', "net.xml: network name 'a$b' is invalid: only letters, digits, '_', '.', '+', ':' and '-' allowed, starting with a letter, digit or '_'"],
    ['ipv4 syntax', std(ip4('', 'address="192.168.300.1" prefix="24"')), 'EDEF_IP', "net.xml: ip address '192.168.300.1' is invalid: not an IPv4 address"],
    ['ipv6 syntax', std('<ip family="ipv6" address="2001:db8::1::2" prefix="64"/>'), 'EDEF_IP', "net.xml: ip address '2001:db8::1::2' is invalid: not an IPv6 address"],
    ['ipv6 without family', std('<ip address="2001:db8::1" prefix="64"/>'), 'EDEF_IP', "net.xml: ip address '2001:db8::1' is invalid: not an IPv4 address"],
    ['prefix range v4', std(ip4('', 'address="10.0.0.1" prefix="33"')), 'EDEF_IP', "net.xml: ip prefix '33' is invalid: must be 1-32 for ipv4"],
    ['prefix range v6', std('<ip family="ipv6" address="2001:db8::1" prefix="129"/>'), 'EDEF_IP', "net.xml: ip prefix '129' is invalid: must be 1-128 for ipv6"],
    ['netmask', std(ip4('', 'address="10.0.0.1" netmask="255.0.255.0"')), 'EDEF_IP', "net.xml: ip netmask '255.0.255.0' is invalid: not a contiguous netmask"],
    ['family', std('<ip family="ipv5" address="10.0.0.1"/>'), 'EDEF_IP', "net.xml: ip family 'ipv5' is invalid: must be ipv4 or ipv6"],
    ['dhcp outside', std(ip4('<dhcp><range start="192.168.1.2" end="192.168.122.254"/></dhcp>')), 'EDEF_DHCP', "net.xml: dhcp range start '192.168.1.2' is invalid: outside the subnet 192.168.122.0/24"],
    ['dhcp reversed', std(ip4('<dhcp><range start="192.168.122.200" end="192.168.122.2"/></dhcp>')), 'EDEF_DHCP', "net.xml: dhcp range '192.168.122.200-192.168.122.2' is invalid: start is after end"],
    ['nat port reversed', std(`<forward mode="nat"><nat><port start="1000" end="500"/></nat></forward>${ip4()}`), 'EDEF_NAT', "net.xml: nat port: Invalid port range '1000-500'."],
    ['nat port too big', std(`<forward mode="nat"><nat><port start="1024" end="65536"/></nat></forward>${ip4()}`), 'EDEF_NAT', "net.xml: nat port: Invalid port range '1024-65536'."],
    ['nat port equal', std(`<forward mode="nat"><nat><port start="1024" end="1024"/></nat></forward>${ip4()}`), 'EDEF_NAT', "net.xml: nat port: Invalid port range '1024-1024'."],
    ['nat address', std(`<forward><nat><address start="10.0.0.9" end="10.0.0.1"/></nat></forward>${ip4()}`), 'EDEF_NAT', "net.xml: nat address range '10.0.0.9-10.0.0.1' is invalid: start is after end"],
    ['nat address syntax', std(`<forward><nat><address start="10.0.0" end="10.0.0.1"/></nat></forward>${ip4()}`), 'EDEF_NAT', "net.xml: nat address start '10.0.0' is invalid: not an IPv4 address"],
    ['forward unknown', std(`<forward mode="magic"/>${ip4()}`), 'EDEF_FORWARD', "net.xml: forward mode 'magic' is invalid: must be nat, route or open (or no <forward> for an isolated network)"],
    ['forward unsupported', std(`<forward mode="bridge"/>${ip4()}`), 'EDEF_FORWARD', "net.xml: forward mode 'bridge' is not supported: vnetfw handles nat, route, open and isolated (no <forward>) networks"],
    ['forward hostdev', std(`<forward mode="hostdev"/>${ip4()}`), 'EDEF_FORWARD', "net.xml: forward mode 'hostdev' is not supported: vnetfw handles nat, route, open and isolated (no <forward>) networks"],
    ['forward dev', std(`<forward mode="nat" dev="eth 0"/>${ip4()}`), 'EDEF_FORWARD', "net.xml: forward dev 'eth 0' is invalid: U+0020 is not allowed: only letters, digits, '_', '.' and '-'"],
    ['forward dev long', std(`<forward mode="route" dev="abcdefghijklmnop"/>${ip4()}`), 'EDEF_FORWARD', "net.xml: forward dev 'abcdefghijklmnop' is invalid: longer than 15 bytes"],
    ['doctype', `<!DOCTYPE network [<!ENTITY x "y">]>${std('')}`, 'EDEF_XML', 'net.xml: DOCTYPE and ENTITY declarations are not allowed'],
    ['root', '<domain><name>x</name></domain>', 'EDEF_XML', 'net.xml: root element is not <network>'],
  ];
  for (const [what, xml, code, message] of cases) it(what, () => expectError(xml, code, message));

  it('entities are not expanded (only the predefined five are decoded)', () => {
    expectError(std('', undefined, '<name>&amp;x</name>'), 'EDEF_NAME', "net.xml: network name '&x' is invalid: only letters, digits, '_', '.', '+', ':' and '-' allowed, starting with a letter, digit or '_'");
  });

  it('refuses files over 1 MiB before reading them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-def-'));
    const file = join(dir, 'big.xml');
    writeFileSync(file, `${std('')}${' '.repeat(1024 * 1024)}`);
    await expect(loadNetworkFile(file)).rejects.toThrow(`${file}: file is larger than 1 MiB`);
    await expect(loadNetworkFile(join(dir, 'missing.xml'))).rejects.toThrow(`${join(dir, 'missing.xml')}: cannot read the file (ENOENT)`);
  });
});

describe('definition parsing', () => {
  it('defaults: isolated, stp on, delay 0, <forward/> = nat, classful prefix, canonical IPv6', () => {
    const iso = parseNetworkXml(std(ip4('', 'address="10.1.2.3"')), 'n.xml');
    expect(iso.forward.mode).toBe('none');
    expect(iso.bridge).toEqual({ name: 'virbr0', stp: true, delay: 0 });
    expect(iso.ips[0]?.prefix).toBe(8);
    const nat = parseNetworkXml(std(`<forward/><ip family="ipv6" address="2001:DB8:0:0::1" prefix="64"/>`), 'n.xml');
    expect(nat.forward.mode).toBe('nat');
    expect(nat.ips[0]?.address).toBe('2001:db8::1');
  });
  it('reads every field', () => {
    const def = parseNetworkXml(net(`<name>full</name><uuid>81FF0D90-C91E-6742-64DA-4A736EDB9A9B</uuid>
      <bridge name="virbr9" stp="off" delay="3"/><mac address="52:54:00:AB:CD:EF"/><mtu size="9000"/>
      <forward mode="nat" dev="eth0"><nat ipv6="yes"><address start="1.2.3.4" end="1.2.3.9"/><port start="2000" end="3000"/></nat></forward>
      <ip address="10.9.0.1" prefix="24"><tftp root="/srv"/><dhcp><range start="10.9.0.2" end="10.9.0.9"/>
      <host mac="52:54:00:00:00:01" name="g" ip="10.9.0.5"/></dhcp></ip>`, ' ipv6="yes"'), 'n.xml');
    expect(def).toEqual({
      name: 'full', uuid: '81ff0d90-c91e-6742-64da-4a736edb9a9b',
      bridge: { name: 'virbr9', stp: false, delay: 3 }, mac: '52:54:00:ab:cd:ef', mtu: 9000,
      forward: { mode: 'nat', dev: 'eth0', nat: { ipv6: true, addressStart: '1.2.3.4', addressEnd: '1.2.3.9', portStart: 2000, portEnd: 3000 } },
      ipv6: true,
      ips: [{ family: 'ipv4', address: '10.9.0.1', prefix: 24, tftpRoot: '/srv',
        dhcpRanges: [{ start: '10.9.0.2', end: '10.9.0.9' }], dhcpHosts: [{ mac: '52:54:00:00:00:01', name: 'g', ip: '10.9.0.5' }] }],
    });
  });
});
