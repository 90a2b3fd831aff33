// Walks a packet through the base chains of one hook, as the kernel would: each base chain (in
// priority order) either accepts the packet (the next base chain still has its say) or drops it.
// Jumps, gotos, returns and verdict maps are followed; a condition that may or may not match is
// followed both ways, so a chain yields every verdict it could reach. Pure.
import { matchAll, matchValues } from './match.js';
import type { Chain, Hook, Packet, Table, Verdict, Where } from './model.js';

export type Fate = 'accept' | 'drop' | 'reject' | 'unknown';
// `sure`: reached without passing a condition that only may match (names the blocking rule best)
export interface Outcome { fate: Fate; where: Where; own: boolean; sure: boolean }

// A walk step's results: verdicts that end the walk, and whether it may also go on ('next') or
// leave the chain ('return').
interface Walk { ends: Outcome[]; next: boolean; ret: boolean }

const MAX_DEPTH = 32;   // nft refuses deeper jump stacks; deeper than this we stop and say "unknown"

export interface EvalContext {
  isOwn: (table: Table, chain: string) => boolean;
}

const whereOf = (table: Table, base: string, chain: string, index?: number, rule?: { text: string; handle?: number }): Where => ({
  family: table.family, table: table.name, source: table.source, baseChain: base, chain,
  ...(index === undefined || rule === undefined ? {} : { rule: { index, text: rule.text, ...(rule.handle === undefined ? {} : { handle: rule.handle }) } }),
});

const walkChain = (ctx: EvalContext, table: Table, base: string, name: string, pkt: Packet, depth: number): Walk => {
  const chain: Chain | undefined = table.chains.get(name);
  const own = ctx.isOwn(table, name);
  if (chain === undefined || depth > MAX_DEPTH) {
    return { ends: [{ fate: 'unknown', where: whereOf(table, base, name), own, sure: true }], next: false, ret: false };
  }
  const ends: Outcome[] = [];
  let mayReturn = false;
  for (const [index, rule] of chain.rules.entries()) {
    const m = matchAll(pkt, rule.conds);
    if (m === 'no' || rule.verdict === null) continue;
    const w = applyVerdict(ctx, table, base, rule.verdict, pkt, depth, whereOf(table, base, name, index, rule), own);
    ends.push(...(m === 'yes' ? w.ends : w.ends.map((o) => ({ ...o, sure: false }))));
    if (w.ret) mayReturn = true;
    // a sure match whose verdict cannot go on ends the walk here; otherwise the rules below
    // still see the packet (on the 'no match' branch, or after a `continue`/returning jump)
    if (m === 'yes' && !w.next) return { ends, next: false, ret: mayReturn };
  }
  return { ends, next: false, ret: true };
};

const applyVerdict = (ctx: EvalContext, table: Table, base: string, v: Verdict, pkt: Packet, depth: number, at: Where, own: boolean): Walk => {
  switch (v.kind) {
    case 'accept':
    case 'drop':
    case 'reject':
      return { ends: [{ fate: v.kind, where: at, own, sure: true }], next: false, ret: false };
    case 'unknown':
      return { ends: [{ fate: 'unknown', where: at, own, sure: true }], next: false, ret: false };
    case 'continue':
      return { ends: [], next: true, ret: false };
    case 'return':
      return { ends: [], next: false, ret: true };
    case 'jump': {
      const w = walkChain(ctx, table, base, v.target, pkt, depth + 1);
      return { ends: w.ends, next: w.ret || w.next, ret: false };
    }
    case 'goto':
      return walkChain(ctx, table, base, v.target, pkt, depth + 1);
    case 'vmap': {
      const ends: Outcome[] = [];
      let next = false; let ret = false;
      for (const e of v.entries) {
        const m = matchValues(pkt, v.field, e.values, v.proto);
        if (m === 'no') continue;
        const w = applyVerdict(ctx, table, base, e.verdict, pkt, depth, at, own);
        ends.push(...(m === 'yes' ? w.ends : w.ends.map((o) => ({ ...o, sure: false })))); next ||= w.next; ret ||= w.ret;
        if (m === 'yes') return { ends, next, ret };
      }
      return { ends, next: true, ret };
    }
  }
};

// Every verdict one base chain can give the packet; falling off its end (or returning from it)
// is its policy.
export const evaluateBaseChain = (ctx: EvalContext, table: Table, chain: Chain, pkt: Packet): Outcome[] => {
  const w = walkChain(ctx, table, chain.name, chain.name, pkt, 0);
  const out = [...w.ends];
  if (w.ret || w.next) out.push({ fate: chain.base?.policy ?? 'accept', where: whereOf(table, chain.name, chain.name), own: ctx.isOwn(table, chain.name), sure: true });
  return out;
};

export interface BaseChainRef { table: Table; chain: Chain }

// The base chains a packet of this family meets on this hook, lowest priority value first
// (ip and inet tables for IPv4, ip6 and inet for IPv6).
export const baseChainsOn = (tables: readonly Table[], hook: Hook, family: 'ipv4' | 'ipv6'): BaseChainRef[] => {
  const fams = family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
  const refs: BaseChainRef[] = [];
  for (const table of tables) {
    if (!fams.includes(table.family)) continue;
    for (const chain of table.chains.values()) if (chain.base?.hook === hook) refs.push({ table, chain });
  }
  return refs.sort((a, b) => (a.chain.base?.priority ?? 0) - (b.chain.base?.priority ?? 0));
};
