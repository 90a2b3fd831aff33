// The integration steps for one network, built from its definition and what was found. Every argv
// here is built from validated values only (bridge and subnets from the definition, zone names
// checked against ZONE_NAME, nft table/chain names against NFT_NAME).
import { networkCidr } from '../../definition/index.js';
import type { NetworkDef } from '../../definition/types.js';
import type { HostDropChain, IntegrationStep } from './model.js';

export const FIREWALL_CMD = 'firewall-cmd';
// The zone vnetfw installs when firewalld has neither the network's zone nor libvirt's: libvirt's
// `libvirt` zone (target ACCEPT: forwarded traffic of the bridge accepted; a lowest-priority reject
// for traffic to the host, except ICMP and the services guests need: DHCP, DHCPv6, DNS, TFTP).
export const VNETFW_ZONE = 'vnetfw';
export const LIBVIRT_ZONE = 'libvirt';

// The one read of the kernel's ruleset that finds the neighbours (iptables-nft tables included).
export const NFT_LIST_RULESET = ['nft', '-j', 'list', 'ruleset'] as const;

export const firewalldQueries = {
  state: [FIREWALL_CMD, '--state'],
  zones: [FIREWALL_CMD, '--get-zones'],
} as const;

export const firewalldBindStep = (def: NetworkDef, zone: string): IntegrationStep => ({
  id: `firewalld:zone:${zone}`, neighbour: 'firewalld',
  argv: [FIREWALL_CMD, `--zone=${zone}`, `--add-interface=${def.bridge.name}`],
  undo: [[FIREWALL_CMD, `--zone=${zone}`, `--remove-interface=${def.bridge.name}`]],
  check: [FIREWALL_CMD, `--zone=${zone}`, `--query-interface=${def.bridge.name}`],
});

// Permanent configuration, then a reload to make it the runtime one. The undo of the first step
// deletes the zone (a crash before the reload leaves only that); the reload step's undo deletes
// it and reloads.
export const zoneInstallSteps = (): IntegrationStep[] => {
  const z = VNETFW_ZONE;
  const shared = `firewalld-zone:${z}`;
  const del = [FIREWALL_CMD, '--permanent', `--delete-zone=${z}`];
  const p = (id: string, args: string[], undo: string[][]): IntegrationStep => ({
    id: `firewalld:install:${id}`, neighbour: 'firewalld', argv: [FIREWALL_CMD, '--permanent', ...args], undo, shared,
  });
  return [
    p('new', [`--new-zone=${z}`], [del]),
    p('target', [`--zone=${z}`, '--set-target=ACCEPT'], []),
    p('services', [`--zone=${z}`, '--add-service=dhcp', '--add-service=dhcpv6', '--add-service=dns', '--add-service=tftp'], []),
    p('icmp', [`--zone=${z}`, '--add-protocol=icmp', '--add-protocol=ipv6-icmp'], []),
    p('reject', [`--zone=${z}`, '--add-rich-rule=rule priority="32767" reject'], []),
    { id: 'firewalld:install:reload', neighbour: 'firewalld', argv: [FIREWALL_CMD, '--reload'], undo: [del, [FIREWALL_CMD, '--reload']], shared },
  ];
};

const subnets = (def: NetworkDef, family: 'ipv4' | 'ipv6'): string[] =>
  def.ips.filter((ip) => ip.family === family).map((ip) => networkCidr(ip.address, ip.prefix, ip.family));

// libvirt's forward rules for the network, as accept rules: guest -> outside from its subnet,
// replies back in (any traffic in for a routed network), guest <-> guest on the bridge.
interface ForwardRule { id: string; iptables: string[]; nft: string[] }
const forwardRules = (def: NetworkDef, family: 'ipv4' | 'ipv6'): ForwardRule[] => {
  const br = def.bridge.name;
  const out: ForwardRule[] = [];
  const mode = def.forward.mode;
  const natOrRoute = mode === 'nat' || mode === 'route';
  const ipKw = family === 'ipv4' ? 'ip' : 'ip6';
  for (const [i, cidr] of subnets(def, family).entries()) {
    if (!natOrRoute) continue;
    const dev = def.forward.dev;
    out.push({
      id: `out${i}`,
      iptables: ['--source', cidr, '--in-interface', br, ...(dev === undefined ? [] : ['--out-interface', dev]), '--jump', 'ACCEPT'],
      nft: ['iifname', `"${br}"`, ...(dev === undefined ? [] : ['oifname', `"${dev}"`]), ipKw, 'saddr', cidr, 'accept'],
    });
    const ct = mode === 'nat';
    out.push({
      id: `in${i}`,
      iptables: ['--destination', cidr, ...(dev === undefined ? [] : ['--in-interface', dev]), '--out-interface', br,
        ...(ct ? ['--match', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED'] : []), '--jump', 'ACCEPT'],
      nft: [...(dev === undefined ? [] : ['iifname', `"${dev}"`]), 'oifname', `"${br}"`, ipKw, 'daddr', cidr, ...(ct ? ['ct', 'state', 'established,related'] : []), 'accept'],
    });
  }
  out.push({
    id: 'cross',
    iptables: ['--in-interface', br, '--out-interface', br, '--jump', 'ACCEPT'],
    nft: ['iifname', `"${br}"`, 'oifname', `"${br}"`, 'accept'],
  });
  return out;
};

const marker = (def: NetworkDef): string => `vnetfw ${def.bridge.name}`;

// Docker (or anything leaving iptables' FORWARD with policy DROP): accept rules in DOCKER-USER,
// Docker's documented place for them, else at the top of FORWARD. Docker's chains and policy stay.
export const dockerSteps = (def: NetworkDef, family: 'ipv4' | 'ipv6', dockerUser: boolean): IntegrationStep[] => {
  const prog = family === 'ipv4' ? 'iptables' : 'ip6tables';
  const chain = dockerUser ? 'DOCKER-USER' : 'FORWARD';
  const comment = ['--match', 'comment', '--comment', marker(def)];
  // Inserted at the top in reverse, so they read in libvirt's order.
  return forwardRules(def, family).reverse().map((r) => ({
    id: `docker:${family}:${r.id}`, neighbour: 'docker' as const,
    argv: [prog, '-w', '--table', 'filter', '--insert', chain, ...r.iptables, ...comment],
    undo: [[prog, '-w', '--table', 'filter', '--delete', chain, ...r.iptables, ...comment]],
    check: [prog, '-w', '--table', 'filter', '--check', chain, ...r.iptables, ...comment],
  }));
};

// A host nftables table whose input or forward chain drops: accept rules inserted at the top of
// that chain (only with host_firewall = "integrate" written in network.conf). Each carries a
// comment naming the bridge, so a crash between the insert and its echo can still be found.
export const hostNftSteps = (def: NetworkDef, c: HostDropChain): IntegrationStep[] => {
  const br = def.bridge.name;
  const exprs: Array<{ id: string; nft: string[] }> = [];
  if (c.hook === 'input') {
    exprs.push({ id: 'dns-udp', nft: ['iifname', `"${br}"`, 'udp', 'dport', '{ 53, 67, 69, 547 }', 'accept'] });
    exprs.push({ id: 'dns-tcp', nft: ['iifname', `"${br}"`, 'tcp', 'dport', '53', 'accept'] });
  } else {
    const fams: Array<'ipv4' | 'ipv6'> = c.family === 'ip' ? ['ipv4'] : c.family === 'ip6' ? ['ipv6'] : ['ipv4', 'ipv6'];
    const seen = new Set<string>();
    for (const f of fams) {
      for (const r of forwardRules(def, f)) {
        const key = r.nft.join(' ');
        if (!seen.has(key)) { seen.add(key); exprs.push({ id: `${f}:${r.id}`, nft: r.nft }); }
      }
    }
  }
  const where = { family: c.family, table: c.table, chain: c.chain };
  return exprs.reverse().map((e) => ({
    id: `host-nft:${c.family}:${c.table}:${c.chain}:${e.id}`, neighbour: 'host-nft' as const,
    argv: ['nft', '--echo', '--handle', 'insert', 'rule', c.family, c.table, c.chain, ...e.nft, 'comment', `"${marker(def)}"`],
    undo: [], nftChain: where, marker: marker(def),
    check: ['nft', '--handle', 'list', 'chain', c.family, c.table, c.chain],
  }));
};

// Once nft echoed the rule's handle: the step's exact removal.
export const withHandle = (step: IntegrationStep, handle: number): IntegrationStep => {
  const c = step.nftChain;
  if (c === undefined) return step;
  return { ...step, handle, undo: [['nft', 'delete', 'rule', c.family, c.table, c.chain, 'handle', String(handle)]] };
};

// `nft --echo --handle insert rule ...` prints the rule with `# handle N`.
export const echoedHandle = (stdout: string): number | undefined => {
  const m = /# handle (\d+)/.exec(stdout);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

// Rules in `nft --handle list chain` output carrying the marker comment, with their handles.
export const markedHandles = (stdout: string, mark: string): number[] =>
  stdout.split('\n').filter((l) => l.includes(`comment "${mark}"`)).flatMap((l) => {
    const h = echoedHandle(l);
    return h === undefined ? [] : [h];
  });
