import type { IpFamily, NetworkDef } from '../definition/types.js';
import { networkCidr } from '../definition/index.js';
import {
  emptyPrivateState, nftDeleteByHandle, nftListOwnTable, nftTableAbsent, parseNftListTable, type FwCommand, type FwRemoval, type PrivateState,
} from '../firewall/index.js';
import { runStep, type OpScope } from './steps.js';

// What our own nftables tables hold right now, rule by rule with handles. Only our tables are
// read (never the whole ruleset), and only on recovery, verify and repair paths.
export interface NftRule { family: 'ip' | 'ip6'; chain: string; handle: number; text: string }

export const parseNftRules = (family: 'ip' | 'ip6', text: string): NftRule[] => {
  const out: NftRule[] = [];
  let chain: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const c = /^chain (\S+) \{/.exec(line);
    if (c !== null) { chain = c[1] ?? null; continue; }
    if (line.startsWith('}')) { chain = null; continue; }
    const h = /^(.*\S)\s+# handle (\d+)$/.exec(line);
    if (chain !== null && h !== null && !/^type \S+ hook /.test(line)) {
      out.push({ family, chain, handle: Number(h[2]), text: (h[1] ?? '').replace(/counter packets \d+ bytes \d+/, 'counter') });
    }
  }
  return out;
};

// Our tables' rules, and their set-up (tables, chains, jumps) as the same listing shows it, for
// the families whose listing answered (`read`): a failing list is taken as "no rules", but it is
// not proof that the set-up is gone (a table missing from a family with rules shows as its rules
// missing, and their repair puts the set-up back).
export const readNftOwn = async (scope: OpScope): Promise<{ rules: NftRule[]; setup: PrivateState; read: IpFamily[] }> => {
  const rules: NftRule[] = [];
  const setup = emptyPrivateState();
  const read: IpFamily[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const res = await runStep(scope, { argv: nftListOwnTable(family, true), purpose: 'query' });
    // A table that is not there is read too (nothing of the set-up, no rules): libvirt's set-up
    // has both families, also for networks with no rule in one of them.
    if (nftTableAbsent(res)) { read.push(family); continue; }
    if (res.exitCode !== 0) continue;
    rules.push(...parseNftRules(family === 'ipv4' ? 'ip' : 'ip6', res.stdout));
    parseNftListTable(family, res.stdout, setup[family]);
    read.push(family);
  }
  return { rules, setup, read };
};

export const listNftRules = async (scope: OpScope): Promise<NftRule[]> => (await readNftOwn(scope)).rules;

// Handles every recorded removal of every network accounts for: `delete rule FAM T CHAIN handle N`.
export const recordedHandles = (removals: readonly FwRemoval[]): Set<string> => {
  const set = new Set<string>();
  for (const r of removals) {
    for (const cmd of r.groups.flatMap((g) => g.commands)) {
      if (cmd.program !== 'nft') continue;
      const [verb, object, fam, , chain, kw, handle] = cmd.args;
      if (verb === 'delete' && object === 'rule' && kw === 'handle') set.add(`${fam}/${chain}/${handle}`);
    }
  }
  return set;
};

// A rule belongs to a network when it names its bridge or one of its subnets (every per-network
// rule libvirt writes does one or the other).
export const mentionsNetwork = (def: NetworkDef, text: string): boolean => {
  if (text.includes(`"${def.bridge.name}"`)) return true;
  return def.ips.some((ip) => {
    const cidr = networkCidr(ip.address, ip.prefix, ip.family);
    return new RegExp(`(^|\\s)${cidr.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`).test(text);
  });
};

export const deleteByHandle = (r: NftRule): FwCommand => nftDeleteByHandle(r.family, r.chain, r.handle);

// The same test for a command we built (a batch shared by several networks carries the undo of
// every one of them; a network's rollback must touch only its own).
export const commandMentions = (def: NetworkDef, cmd: FwCommand): boolean =>
  cmd.args.includes(def.bridge.name) || def.ips.some((ip) => cmd.args.includes(networkCidr(ip.address, ip.prefix, ip.family)));

// Rules in our nftables tables that name one of `defs` and that no recorded removal (of any
// network) accounts for: what an operation added without the log knowing their handles yet.
export const unrecordedNftRules = async (scope: OpScope, defs: readonly NetworkDef[]): Promise<NftRule[]> => {
  const all = Object.values(scope.journal.store.state().networks).flatMap((n) => Object.values(n.removals) as FwRemoval[]);
  const known = recordedHandles(all);
  return (await listNftRules(scope))
    .filter((r) => r.chain !== 'forward' && !known.has(`${r.family}/${r.chain}/${r.handle}`) && defs.some((d) => mentionsNetwork(d, r.text)));
};
