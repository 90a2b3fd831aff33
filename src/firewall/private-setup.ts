// The private chains (iptables, network_iptables.c) and tables/chains (nftables, network_nftables.c) every network's
// rules live in: parsers for what the kernel has now, and the commands still missing. Always both
// families, as libvirt sets up ip and ip6 regardless of the networks' addresses.
import type { IpFamily } from '../definition/types.js';
import type { Backend, FwCommand } from './model.js';
import { emptyNftVariantTables, tableOf } from './restore-outcome.js';
import { NFT_TABLE, nftFamily } from './rules-nftables.js';

// What exists for one family: chains as 'table/chain', jumps as 'table/parent/child', and for
// nftables whether the libvirt_network table is there. `tables`: the iptables tables iptables-save
// showed (iptables-nft shows only those that exist; the legacy variant always shows them all).
export interface FamilyState { table: boolean; chains: Set<string>; links: Set<string>; tables?: Set<string> }
export type PrivateState = Record<IpFamily, FamilyState>;

export const emptyFamilyState = (): FamilyState => ({ table: false, chains: new Set(), links: new Set() });
export const emptyPrivateState = (): PrivateState => ({ ipv4: emptyFamilyState(), ipv6: emptyFamilyState() });

const FAMILIES: readonly IpFamily[] = ['ipv4', 'ipv6'];

export const IPTABLES_PRIVATE_CHAINS: ReadonlyArray<{ table: string; parent: string; child: string }> = [
  { table: 'filter', parent: 'INPUT', child: 'LIBVIRT_INP' },
  { table: 'filter', parent: 'OUTPUT', child: 'LIBVIRT_OUT' },
  { table: 'filter', parent: 'FORWARD', child: 'LIBVIRT_FWO' },
  { table: 'filter', parent: 'FORWARD', child: 'LIBVIRT_FWI' },
  { table: 'filter', parent: 'FORWARD', child: 'LIBVIRT_FWX' },
  { table: 'nat', parent: 'POSTROUTING', child: 'LIBVIRT_PRT' },
  { table: 'mangle', parent: 'POSTROUTING', child: 'LIBVIRT_PRT' },
];
export const IPTABLES_TABLES = ['filter', 'nat', 'mangle'] as const;

export const NFT_PRIVATE_CHAINS: ReadonlyArray<{ name: string; parent?: string; spec?: string }> = [
  { name: 'forward', spec: '{ type filter hook forward priority 0; policy accept; }' },
  { name: 'guest_output', parent: 'forward' },
  { name: 'guest_input', parent: 'forward' },
  { name: 'guest_cross', parent: 'forward' },
  { name: 'guest_nat', spec: '{ type nat hook postrouting priority 100; policy accept; }' },
  { name: 'postroute_mangle', spec: '{ type filter hook postrouting priority 0; policy accept; }' },
];

// `iptables --table T --list-rules` output (libvirt's callback): `-N X` = chain, `-A P -j C` = jump.
export const parseIptablesListRules = (table: string, text: string, into: FamilyState = emptyFamilyState()): FamilyState => {
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === '-N' && words[1] !== undefined) into.chains.add(`${table}/${words[1]}`);
    if (words[0] === '-A' && words[1] !== undefined) {
      const j = words.findIndex((w) => w === '-j' || w === '--jump');
      const target = j > 0 ? words[j + 1] : undefined;
      if (target !== undefined && words.length === 4) into.links.add(`${table}/${words[1]}/${target}`);
    }
  }
  return into;
};

// `iptables-save` output: `*table` sections, `:CHAIN POLICY [p:b]` declarations, `-A` rules.
export const parseIptablesSave = (text: string, into: FamilyState = emptyFamilyState()): FamilyState => {
  into.tables ??= new Set();
  let table = '';
  const rules: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) { table = line.slice(1); (into.tables ??= new Set()).add(table); continue; }
    if (line.startsWith(':') && table !== '') into.chains.add(`${table}/${line.slice(1).split(/\s+/)[0] ?? ''}`);
    if (line.startsWith('-A ')) rules.push(line);
    if (line === 'COMMIT' && rules.length > 0) { parseIptablesListRules(table, rules.join('\n'), into); rules.length = 0; }
  }
  return into;
};

// `nft list table FAM libvirt_network` output (libvirt's callback).
export const parseNftListTable = (family: IpFamily, text: string, into: FamilyState = emptyFamilyState()): FamilyState => {
  const header = `table ${nftFamily(family)} ${NFT_TABLE} {`;
  for (const raw of text.split('\n')) {
    // `nft -a list table` writes the handle after the header: `table ip libvirt_network { # handle 7`.
    const line = raw.trim().replace(/\s+# handle \d+$/, '');
    if (line === header) into.table = true;
    else if (line.startsWith('chain ')) into.chains.add(`${NFT_TABLE}/${line.split(/\s+/)[1] ?? ''}`);
    else {
      const m = /\bjump (\S+)/.exec(line);
      if (m?.[1] !== undefined) into.links.add(`${NFT_TABLE}/${m[1]}`);
    }
  }
  return into;
};

export const privateSetupQueries = (backend: Backend, family: IpFamily): FwCommand[] => {
  if (backend === 'nftables') return [{ program: 'nft', args: ['list', 'table', nftFamily(family), NFT_TABLE] }];
  const program = family === 'ipv4' ? 'iptables' : 'ip6tables';
  return IPTABLES_TABLES.map((t) => ({ program, args: ['--table', t, '--list-rules'] }));
};

const missingForFamily = (backend: Backend, family: IpFamily, s: FamilyState): FwCommand[] => {
  const out: FwCommand[] = [];
  if (backend === 'iptables') {
    const program = family === 'ipv4' ? 'iptables' : 'ip6tables';
    for (const { table, parent, child } of IPTABLES_PRIVATE_CHAINS) {
      if (!s.chains.has(`${table}/${child}`)) out.push({ program, args: ['--table', table, '--new-chain', child] });
      if (!s.links.has(`${table}/${parent}/${child}`)) out.push({ program, args: ['--table', table, '--insert', parent, '--jump', child] });
    }
    return out;
  }
  const fam = nftFamily(family);
  if (!s.table) out.push({ program: 'nft', args: ['add', 'table', fam, NFT_TABLE] });
  for (const { name, parent, spec } of NFT_PRIVATE_CHAINS) {
    if (!s.chains.has(`${NFT_TABLE}/${name}`)) out.push({ program: 'nft', args: ['add', 'chain', fam, NFT_TABLE, name, ...(spec === undefined ? [] : [spec])] });
    if (parent !== undefined && !s.links.has(`${NFT_TABLE}/${name}`)) {
      out.push({ program: 'nft', args: ['insert', 'rule', fam, NFT_TABLE, parent, 'counter', 'jump', name] });
    }
  }
  return out;
};

// The set-up commands still missing (a fresh host: all of them, in base.* order).
export const privateSetup = (backend: Backend, existing: PrivateState = emptyPrivateState()): FwCommand[] =>
  FAMILIES.flatMap((f) => missingForFamily(backend, f, existing[f]));

// libvirt's full private-setup output on a fresh host: per family the list queries, then the
// commands their (empty) answers call for. This is exactly base.iptables / base.nftables.
export const privateSetupWithQueries = (backend: Backend): FwCommand[] =>
  FAMILIES.flatMap((f) => [...privateSetupQueries(backend, f), ...missingForFamily(backend, f, emptyFamilyState())]);

// What takes back the set-up an operation itself added, when that operation fails: libvirt keeps
// its private chains for good, but a failed first start must leave the host as it found it.
// nftables: the table, if the operation created it (which takes its chains and jumps with it).
// iptables: the jumps it inserted, then the chains it created (a chain must be unreferenced and
// empty to go; the network's own rules are undone before this runs).
export const privateSetupUndo = (setup: readonly FwCommand[], existing?: PrivateState): FwCommand[] => {
  const jumps: FwCommand[] = [];
  const chains: FwCommand[] = [];
  const tables: FwCommand[] = [];
  for (const cmd of setup) {
    const a = cmd.args;
    if (cmd.program === 'nft') {
      if (a[0] === 'add' && a[1] === 'table') chains.push({ program: 'nft', args: ['delete', 'table', a[2] ?? '', a[3] ?? ''], ignoreErrors: true });
      continue;
    }
    const n = a.indexOf('--new-chain');
    const i = a.indexOf('--insert');
    const t = tableOf(cmd);
    const family = iptablesFamily(cmd);
    // iptables-nft creates a table (and its built-in chains) on first use; one that iptables-save
    // did not show before this operation goes again, so the host is exactly as it was.
    const before = existing?.[family].tables;
    if (before !== undefined && !before.has(t) && !tables.some((d) => d.args[2] === nftFamily(family) && d.args[3] === t)) tables.push(dropIptablesNftTable(family, t));
    if (n >= 0) chains.push({ program: cmd.program, args: [...a.slice(0, n), '--delete-chain', a[n + 1] ?? ''], ignoreErrors: true });
    else if (i >= 0) jumps.push({ program: cmd.program, args: a.map((x) => (x === '--insert' ? '--delete' : x)), ignoreErrors: true });
  }
  return [...jumps.reverse(), ...chains.reverse(), ...tables];
};

const iptablesFamily = (cmd: FwCommand): IpFamily => (cmd.program === 'ip6tables' ? 'ipv6' : 'ipv4');
const dropIptablesNftTable = (family: IpFamily, table: string): FwCommand =>
  ({ program: 'nft', args: ['delete', 'table', nftFamily(family), table], ignoreErrors: true });

// After set-up an operation added without reading the kernel first has been taken back (see
// privateSetupUndo): the iptables-nft tables of `family` it touched that `iptables-save` (saveText)
// now shows empty, to drop, so a failed first apply leaves no table it created. A table that was
// there before and empty goes too: it changed no packet's fate.
export const emptiedSetupTables = (setup: readonly FwCommand[], family: IpFamily, saveText: string): FwCommand[] => {
  const touched = new Set(setup.filter((c) => c.program !== 'nft' && iptablesFamily(c) === family).map(tableOf));
  return [...emptyNftVariantTables(saveText)].filter((t) => touched.has(t)).map((t) => dropIptablesNftTable(family, t));
};

// The families whose iptables set-up is among `setup`.
export const setupFamilies = (setup: readonly FwCommand[]): IpFamily[] =>
  FAMILIES.filter((f) => setup.some((c) => c.program !== 'nft' && iptablesFamily(c) === f));

// What puts a damaged set-up back (drift repair), for the families given: missing tables and
// chains are created; where a jump from a parent chain is missing, every jump of that parent is
// taken out and inserted again in libvirt's order, since the order matters (LIBVIRT_FWX, which
// accepts guest <-> guest, must come before LIBVIRT_FWI, which rejects what goes out to the bridge).
// Empty when nothing is missing. nftables: the `forward` chain holds only these jumps, so it is
// flushed and refilled.
export const privateSetupRepair = (backend: 'iptables' | 'nftables', existing: PrivateState, families: readonly IpFamily[] = FAMILIES): FwCommand[] =>
  families.flatMap((family) => {
    const s = existing[family];
    if (backend === 'nftables') {
      const fam = nftFamily(family);
      const out: FwCommand[] = [];
      if (!s.table) out.push({ program: 'nft', args: ['add', 'table', fam, NFT_TABLE] });
      for (const { name, spec } of NFT_PRIVATE_CHAINS) {
        if (!s.chains.has(`${NFT_TABLE}/${name}`)) out.push({ program: 'nft', args: ['add', 'chain', fam, NFT_TABLE, name, ...(spec === undefined ? [] : [spec])] });
      }
      const jumps = NFT_PRIVATE_CHAINS.filter((c) => c.parent !== undefined);
      if (jumps.some((c) => !s.links.has(`${NFT_TABLE}/${c.name}`))) {
        if (s.chains.has(`${NFT_TABLE}/forward`)) out.push({ program: 'nft', args: ['flush', 'chain', fam, NFT_TABLE, 'forward'] });
        for (const { name, parent } of jumps) out.push({ program: 'nft', args: ['insert', 'rule', fam, NFT_TABLE, parent ?? '', 'counter', 'jump', name] });
      }
      return out;
    }
    const program = family === 'ipv4' ? 'iptables' : 'ip6tables';
    const out: FwCommand[] = [];
    for (const { table, child } of IPTABLES_PRIVATE_CHAINS) {
      if (!s.chains.has(`${table}/${child}`)) out.push({ program, args: ['--table', table, '--new-chain', child] });
    }
    const parents = [...new Set(IPTABLES_PRIVATE_CHAINS.map((c) => `${c.table}/${c.parent}`))];
    for (const tp of parents) {
      const group = IPTABLES_PRIVATE_CHAINS.filter((c) => `${c.table}/${c.parent}` === tp);
      if (group.every((c) => s.links.has(`${c.table}/${c.parent}/${c.child}`))) continue;
      for (const c of group) {
        if (s.links.has(`${c.table}/${c.parent}/${c.child}`)) out.push({ program, args: ['--table', c.table, '--delete', c.parent, '--jump', c.child] });
      }
      for (const c of group) out.push({ program, args: ['--table', c.table, '--insert', c.parent, '--jump', c.child] });
    }
    return out;
  });
