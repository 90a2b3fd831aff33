// libvirt's iptables rules for one network (libvirt's src/network/network_iptables.c): every rule an
// --insert into the LIBVIRT_* chains, emitted in libvirt's order.
import type { IpDef, IpFamily, NetworkDef } from '../definition/types.js';
import type { FwCommand, FwGroup, FwRuleSet } from './model.js';
import {
  multicastOf, netOf, portRange, ruleSetFor, snatAddress, wantsChecksum, wantsGeneralIPv6, hasFamily, wantsTftp,
} from './rules-common.js';

const cmd = (family: IpFamily, args: string[]): FwCommand => ({
  program: family === 'ipv4' ? 'iptables' : 'ip6tables', args, autoRollback: true,
});

const filter = (family: IpFamily, chain: string, rest: string[]): FwCommand =>
  cmd(family, ['--table', 'filter', '--insert', chain, ...rest]);

const hostPort = (family: IpFamily, dir: 'in' | 'out', br: string, proto: 'tcp' | 'udp', port: number): FwCommand =>
  filter(family, dir === 'in' ? 'LIBVIRT_INP' : 'LIBVIRT_OUT',
    [dir === 'in' ? '--in-interface' : '--out-interface', br, '--protocol', proto, '--destination-port', String(port), '--jump', 'ACCEPT']);

const forwardGeneral = (family: IpFamily, br: string): FwCommand[] => [
  filter(family, 'LIBVIRT_FWO', ['--in-interface', br, '--jump', 'REJECT']),
  filter(family, 'LIBVIRT_FWI', ['--out-interface', br, '--jump', 'REJECT']),
  filter(family, 'LIBVIRT_FWX', ['--in-interface', br, '--out-interface', br, '--jump', 'ACCEPT']),
];

const generalIPv4 = (def: NetworkDef): FwCommand[] => {
  const br = def.bridge.name;
  const out: FwCommand[] = [
    hostPort('ipv4', 'in', br, 'tcp', 67), hostPort('ipv4', 'in', br, 'udp', 67),
    hostPort('ipv4', 'out', br, 'tcp', 68), hostPort('ipv4', 'out', br, 'udp', 68),
    hostPort('ipv4', 'in', br, 'tcp', 53), hostPort('ipv4', 'in', br, 'udp', 53),
    hostPort('ipv4', 'out', br, 'tcp', 53), hostPort('ipv4', 'out', br, 'udp', 53),
  ];
  if (wantsTftp(def)) out.push(hostPort('ipv4', 'in', br, 'udp', 69), hostPort('ipv4', 'out', br, 'udp', 69));
  return [...out, ...forwardGeneral('ipv4', br)];
};

const generalIPv6 = (def: NetworkDef): FwCommand[] => {
  if (!wantsGeneralIPv6(def)) return [];
  const br = def.bridge.name;
  const out = forwardGeneral('ipv6', br);
  if (hasFamily(def, 'ipv6')) {
    out.push(
      hostPort('ipv6', 'in', br, 'tcp', 53), hostPort('ipv6', 'in', br, 'udp', 53),
      hostPort('ipv6', 'out', br, 'tcp', 53), hostPort('ipv6', 'out', br, 'udp', 53),
      hostPort('ipv6', 'in', br, 'udp', 547), hostPort('ipv6', 'out', br, 'udp', 546),
    );
  }
  return out;
};

const opt = (flag: string, v: string | undefined): string[] => (v === undefined ? [] : [flag, v]);

const allowOut = (ip: IpDef, br: string, dev: string | undefined): FwCommand =>
  filter(ip.family, 'LIBVIRT_FWO', ['--source', netOf(ip), '--in-interface', br, ...opt('--out-interface', dev), '--jump', 'ACCEPT']);

const allowIn = (ip: IpDef, br: string, dev: string | undefined, related: boolean): FwCommand =>
  filter(ip.family, 'LIBVIRT_FWI', [
    '--destination', netOf(ip), ...opt('--in-interface', dev), '--out-interface', br,
    ...(related ? ['--match', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED'] : []), '--jump', 'ACCEPT',
  ]);

const masquerade = (def: NetworkDef, ip: IpDef, proto: 'udp' | 'tcp' | undefined): FwCommand => {
  const net = netOf(ip);
  const dev = def.forward.dev;
  const ports = proto === undefined ? undefined : portRange(def);
  const snat = snatAddress(def, ip);
  const target = snat !== undefined
    ? ['--jump', 'SNAT', '--to-source', `${snat}${ports === undefined ? '' : `:${ports.start}-${ports.end}`}`]
    : ['--jump', 'MASQUERADE', ...(ports === undefined ? [] : ['--to-ports', `${ports.start}-${ports.end}`])];
  return cmd(ip.family, [
    '--table', 'nat', '--insert', 'LIBVIRT_PRT', '--source', net, ...(proto === undefined ? [] : ['-p', proto]),
    '!', '--destination', net, ...opt('--out-interface', dev), ...target,
  ]);
};

const dontMasquerade = (def: NetworkDef, ip: IpDef, destination: string): FwCommand =>
  cmd(ip.family, ['--table', 'nat', '--insert', 'LIBVIRT_PRT', ...opt('--out-interface', def.forward.dev),
    '--source', netOf(ip), '--destination', destination, '--jump', 'RETURN']);

const perIp = (def: NetworkDef, ip: IpDef): FwCommand[] => {
  const br = def.bridge.name;
  const dev = def.forward.dev;
  switch (ruleSetFor(def, ip)) {
    case 'masquerade':
      return [
        allowOut(ip, br, dev), allowIn(ip, br, dev, true),
        masquerade(def, ip, undefined), masquerade(def, ip, 'udp'), masquerade(def, ip, 'tcp'),
        ...(ip.family === 'ipv4' ? [dontMasquerade(def, ip, '255.255.255.255/32')] : []),
        dontMasquerade(def, ip, multicastOf(ip.family)),
      ];
    case 'routing':
      return [allowOut(ip, br, dev), allowIn(ip, br, dev, false)];
    default:
      return [];
  }
};

export const buildIptablesRules = (def: NetworkDef): FwRuleSet => {
  const groups: FwGroup[] = [];
  if (def.forward.mode !== 'open') {
    groups.push({ ignoreErrors: false, commands: [...generalIPv4(def), ...generalIPv6(def), ...def.ips.flatMap((ip) => perIp(def, ip))] });
    // The CHECKSUM target is missing from some iptables builds: its group tolerates failure.
    if (wantsChecksum(def)) {
      groups.push({
        ignoreErrors: true,
        commands: [{
          ...cmd('ipv4', ['--table', 'mangle', '--insert', 'LIBVIRT_PRT', '--out-interface', def.bridge.name,
            '--protocol', 'udp', '--destination-port', '68', '--jump', 'CHECKSUM', '--checksum-fill']),
          ignoreErrors: true,
        }],
      });
    }
  }
  return { backend: 'iptables', network: def.name, groups };
};
