// What a removal list read from a file (libvirt's status file) may hold: only removals shaped like
// the ones libvirt records for its own rules of that very network. A status file is untrusted
// input: without this check, a list holding `--table filter --flush` or `flush ruleset` would be
// run by adopt's consistency check, by every drift check and by stop. An accepted command holds
// only tokens of the whitelists below and values equal to the definition's own (its bridge, forward
// device, subnets, NAT address), so what runs later is what vnetfw would have built itself.
import { networkCidr } from '../definition/ip.js';
import type { IpFamily, NetworkDef } from '../definition/types.js';
import { VnetfwError } from '../errors.js';
import type { FwCommand, FwGroup, FwRemoval } from './model.js';
import { multicastOf } from './rules-common.js';
import { NFT_TABLE } from './rules-nftables.js';

export class RemovalShapeError extends VnetfwError {
  constructor(message: string) {
    super('EFW_SHAPE', message, { exitCode: 2 });
    this.name = 'RemovalShapeError';
  }
}

// The chains libvirt puts a network's rules in (never the private set-up's `forward` jumps).
const NFT_CHAINS = new Set(['guest_output', 'guest_input', 'guest_cross', 'guest_nat', 'postroute_mangle']);
const IPT_CHAINS: Record<string, ReadonlySet<string>> = {
  filter: new Set(['LIBVIRT_INP', 'LIBVIRT_OUT', 'LIBVIRT_FWO', 'LIBVIRT_FWI', 'LIBVIRT_FWX']),
  nat: new Set(['LIBVIRT_PRT']),
  mangle: new Set(['LIBVIRT_PRT']),
};
// The targets libvirt's rules jump to, per table.
const IPT_JUMPS: Record<string, ReadonlySet<string>> = {
  filter: new Set(['ACCEPT', 'REJECT']),
  nat: new Set(['MASQUERADE', 'SNAT', 'RETURN']),
  mangle: new Set(['CHECKSUM']),
};
// DHCP, DHCPv6, DNS and TFTP: the only ports libvirt's host rules open.
const HOST_PORTS = new Set(['53', '67', '68', '69', '546', '547']);

type Problem = string | undefined;

interface Owned { ifaces: Set<string>; nets: Set<string>; destinations: Set<string> }

const ownedBy = (def: NetworkDef, family: IpFamily): Owned => {
  const nets = new Set(def.ips.filter((ip) => ip.family === family).map((ip) => networkCidr(ip.address, ip.prefix, ip.family)));
  const fixed = family === 'ipv4' ? ['255.255.255.255/32', multicastOf('ipv4')] : [multicastOf('ipv6')];
  return {
    ifaces: new Set([def.bridge.name, ...(def.forward.dev === undefined ? [] : [def.forward.dev])]),
    nets,
    destinations: new Set([...nets, ...fixed]),
  };
};

const PORT_RANGE = /^([1-9]\d{0,4})-([1-9]\d{0,4})$/;
const portRangeProblem = (v: string): Problem => {
  const m = PORT_RANGE.exec(v);
  if (m === null || !(Number(m[1]) < Number(m[2]) && Number(m[2]) < 65536)) return `port range '${v}' is invalid`;
  return undefined;
};

const snatProblem = (v: string, def: NetworkDef): Problem => {
  const nat = def.forward.nat;
  if (nat?.addressStart === undefined) return `--to-source '${v}' but the network has no <nat><address>`;
  const addrs = nat.addressEnd === undefined ? nat.addressStart : `${nat.addressStart}-${nat.addressEnd}`;
  if (v === addrs) return undefined;
  if (v.startsWith(`${addrs}:`)) return portRangeProblem(v.slice(addrs.length + 1));
  return `--to-source '${v}' is not the network's <nat><address>`;
};

// Options libvirt's iptables rules use, each with the check of its value (null: takes none).
type ValueCheck = ((v: string, own: Owned, def: NetworkDef) => Problem) | null;
const member = (what: string, pick: (o: Owned) => Set<string>) => (v: string, own: Owned): Problem =>
  (pick(own).has(v) ? undefined : `${what} '${v}' is not this network's`);
const oneOf = (allowed: readonly string[]) => (v: string): Problem => (allowed.includes(v) ? undefined : `'${v}' is not one of ${allowed.join(', ')}`);

const IPT_OPTIONS: Record<string, ValueCheck> = {
  '--in-interface': member('interface', (o) => o.ifaces),
  '--out-interface': member('interface', (o) => o.ifaces),
  '--protocol': oneOf(['tcp', 'udp']),
  '-p': oneOf(['tcp', 'udp']),
  '--destination-port': (v) => (HOST_PORTS.has(v) ? undefined : `port '${v}' is not one libvirt opens`),
  '--source': member('address', (o) => o.nets),
  '--destination': member('address', (o) => o.destinations),
  '--match': oneOf(['conntrack']),
  '--ctstate': oneOf(['ESTABLISHED,RELATED']),
  '--jump': null,  // checked against the table below
  '--to-ports': (v) => portRangeProblem(v),
  '--to-source': (v, _o, def) => snatProblem(v, def),
  '--checksum-fill': null,
};

const iptablesProblem = (cmd: FwCommand, def: NetworkDef): Problem => {
  const a = cmd.args;
  if (a[0] !== '--table' || a[2] !== '--delete') return "not '--table T --delete CHAIN ...'";
  const table = a[1] ?? '';
  const chain = a[3] ?? '';
  if (IPT_CHAINS[table] === undefined) return `table '${table}' is not filter, nat or mangle`;
  if (!IPT_CHAINS[table].has(chain)) return `chain '${chain}' is not one of libvirt's chains of table ${table}`;
  const own = ownedBy(def, cmd.program === 'ip6tables' ? 'ipv6' : 'ipv4');
  const seen = new Set<string>();
  let jump: string | undefined;
  for (let i = 4; i < a.length; i++) {
    const opt = a[i] ?? '';
    if (opt === '!') {
      if (a[i + 1] !== '--destination') return "'!' not followed by --destination";
      continue;
    }
    if (!(opt in IPT_OPTIONS)) return `option '${opt}' is not one libvirt's rules use`;
    const canonical = opt === '-p' ? '--protocol' : opt;
    if (seen.has(canonical)) return `option '${opt}' given twice`;
    seen.add(canonical);
    const check = IPT_OPTIONS[opt];
    if (check === null) {
      if (opt === '--checksum-fill') continue;
      jump = a[++i];
      if (jump === undefined || !(IPT_JUMPS[table]?.has(jump) ?? false)) return `--jump '${jump ?? ''}' is not a target libvirt uses in table ${table}`;
      continue;
    }
    const v = a[++i];
    if (v === undefined) return `option '${opt}' has no value`;
    const p = check?.(v, own, def);
    if (p !== undefined) return p;
  }
  if (jump === undefined) return 'no --jump';
  const mine = [...own.ifaces].some((i) => a.includes(i)) || [...own.nets].some((n) => a.includes(n));
  if (!mine) return 'names neither the network\'s interfaces nor its subnets';
  return undefined;
};

const nftProblem = (cmd: FwCommand): Problem => {
  const [verb, object, family, table, chain, kw, handle, ...rest] = cmd.args;
  if (verb !== 'delete' || object !== 'rule' || kw !== 'handle' || rest.length > 0) return "not 'delete rule FAMILY libvirt_network CHAIN handle N'";
  if (family !== 'ip' && family !== 'ip6') return `family '${family ?? ''}' is not ip or ip6`;
  if (table !== NFT_TABLE) return `table '${table ?? ''}' is not ${NFT_TABLE}`;
  if (!NFT_CHAINS.has(chain ?? '')) return `chain '${chain ?? ''}' is not one of libvirt's per-network chains`;
  if (!/^[1-9]\d{0,9}$/.test(handle ?? '') || Number(handle) > 0xffffffff) return `handle '${handle ?? ''}' is not a rule handle`;
  return undefined;
};

// The newest libvirt's DHCP checksum filter on the bridge (FACTS §4, era 3), removed exactly as it
// was added; only on this network's own bridge.
export const tcChecksumFilter = (verb: 'add' | 'del', bridge: string): string[] =>
  ['filter', verb, 'dev', bridge, 'prio', '2', 'protocol', 'ip', 'parent', '1:', 'u32', 'match', 'ip', 'dport', '68', 'ffff', 'action', 'csum', 'ip', 'and', 'udp'];

const tcProblem = (cmd: FwCommand, def: NetworkDef): Problem => {
  if (cmd.args[0] === 'filter' && cmd.args[1] === 'del' && cmd.args[2] === 'dev' && cmd.args[3] !== def.bridge.name) {
    return `device '${cmd.args[3] ?? ''}' is not the network's bridge ${def.bridge.name}`;
  }
  const want = tcChecksumFilter('del', def.bridge.name);
  return cmd.args.length === want.length && cmd.args.every((a, i) => a === want[i]) ? undefined : `not '${want.join(' ')}'`;
};

const problemOf = (cmd: FwCommand, backend: FwRemoval['backend'], def: NetworkDef): Problem => {
  if (backend === 'nftables' && cmd.program === 'tc') return tcProblem(cmd, def);
  if (backend === 'nftables') return cmd.program === 'nft' ? nftProblem(cmd) : `a ${cmd.program} action in an nftables list`;
  if (cmd.program === 'nft' || cmd.program === 'tc') return `a ${cmd.program} action in an iptables list`;
  return iptablesProblem(cmd, def);
};

// The removal list of `def` read from `what`, accepted only when every action is a removal of one
// of libvirt's own rules of this network; rebuilt from the checked values. Anything else: exit 2
// naming the file and the action.
export const checkLibvirtRemoval = (removal: FwRemoval, def: NetworkDef, what: string): FwRemoval => {
  const groups: FwGroup[] = removal.groups.map((g) => ({
    ignoreErrors: g.ignoreErrors,
    commands: g.commands.map((cmd) => {
      const problem = problemOf(cmd, removal.backend, def);
      if (problem !== undefined) {
        throw new RemovalShapeError(`${what}: fwRemoval action '${cmd.args.join(' ')}' refused: not a removal of libvirt's own rules of network '${def.name}' (${problem})`);
      }
      const rebuilt: FwCommand = { program: cmd.program, args: [...cmd.args] };
      if (cmd.ignoreErrors === true) rebuilt.ignoreErrors = true;
      return rebuilt;
    }),
  }));
  return { backend: removal.backend, groups };
};

// Where a checked nft removal points (to bind its handle to one of the network's rules).
export const nftRemovalTarget = (cmd: FwCommand): { family: 'ip' | 'ip6'; chain: string; handle: number } | undefined => {
  if (cmd.program !== 'nft' || nftProblem(cmd) !== undefined) return undefined;
  return { family: cmd.args[2] as 'ip' | 'ip6', chain: cmd.args[4] ?? '', handle: Number(cmd.args[6]) };
};
