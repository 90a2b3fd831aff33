import {
  emptyPrivateState, iptablesCheckOf, iptablesSave, parseIptablesSave, privateSetupRepair,
  type Backend, type FwCommand, type FwRemoval, type IntegrationStep, type PrivateState,
} from '../firewall/index.js';
import { missingIntegration, retakeSteps } from './neighbours.js';
import { repairPrivateSetup } from './firewall-driver.js';
import { openScope } from './open-operation.js';
import type { NetworkStatus } from '../../state/index.js';
import type { EngineEnv } from './env.js';
import { indexedDiff, readIndexedView } from './indexed-view.js';
import { mentionsNetwork, readNftOwn, recordedHandles, type NftRule } from './kernel-view.js';
import { definitionOf } from './network-lookup.js';
import { planDriftRepair } from './plan.js';
import { tcDrift } from './tc-drift.js';
import { runStep, newOpId, type OpScope } from './steps.js';

// Drift: the kernel no longer holds what the log says vnetfw installed (a flushed chain, a deleted
// rule), or our chains hold rules nobody recorded. Read-only: it only lists our own objects.
// `neighbours`: integration steps no longer in effect (firewalld forgot the bridge's zone after a
// reload or restart, someone flushed DOCKER-USER); repaired by taking them again, rules untouched.
// `setup`: the private set-up the backend's rules hang from is damaged (a chain gone, a jump from
// FORWARD/INPUT/OUTPUT/POSTROUTING or from our `forward` chain gone: the rules may all be there and
// still see no packet); these commands put it back. Shared by every network of that backend, so
// it is reported on one of them.
export interface Drift { network: string; backend: Backend; missing: string[]; foreign: string[]; neighbours?: IntegrationStep[]; setup?: FwCommand[] }

const setupDrift = (networks: readonly NetworkStatus[], backend: 'iptables' | 'nftables', cmds: FwCommand[], out: Drift[]): void => {
  const owner = networks.find((n) => n.removals[backend] !== undefined);
  if (cmds.length === 0 || owner === undefined) return;
  const missing = cmds.map((c) => `private set-up: ${c.program} ${c.args.join(' ')}`);
  const d = out.find((x) => x.network === owner.name && x.backend === backend);
  if (d !== undefined) { d.missing.push(...missing); d.setup = cmds; } else out.push({ network: owner.name, backend, missing, foreign: [], setup: cmds });
};

const commandsOf = (r: FwRemoval | undefined): FwCommand[] => (r === undefined ? [] : r.groups.flatMap((g) => g.commands));

const nftDrift = (networks: NetworkStatus[], rules: NftRule[], env: EngineEnv): Drift[] => {
  const all = networks.flatMap((n) => Object.values(n.removals) as FwRemoval[]);
  const known = recordedHandles(all);
  const present = new Set(rules.map((r) => `${r.family}/${r.chain}/${r.handle}`));
  const out: Drift[] = [];
  for (const n of networks) {
    const removal = n.removals.nftables;
    if (removal === undefined) continue;
    const def = definitionOf(env.journal.store, n.name);
    const missing = [...recordedHandles([removal])].filter((h) => !present.has(h)).map((h) => {
      const [fam, chain, handle] = h.split('/');
      return `nft rule ${fam ?? ''} libvirt_network ${chain ?? ''} handle ${handle ?? ''}`;
    });
    const foreign = rules.filter((r) => r.chain !== 'forward' && !known.has(`${r.family}/${r.chain}/${r.handle}`) && mentionsNetwork(def, r.text))
      .map((r) => `nft ${r.family} libvirt_network ${r.chain}: ${r.text} (handle ${r.handle})`);
    if (missing.length > 0 || foreign.length > 0) out.push({ network: n.name, backend: 'nftables', missing, foreign });
  }
  return out;
};

// iptables has no handles: a rule is present when `iptables -C` finds it. That is one process per
// rule, so the cheap first look is a count of the rules in our chains (one iptables-save per family).
const countIptables = (text: string, fam: string, into: Map<string, number>): void => {
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const m = /^-A (LIBVIRT_\w+) /.exec(line);
    if (m !== null) into.set(`${fam}/${table}/${m[1] ?? ''}`, (into.get(`${fam}/${table}/${m[1] ?? ''}`) ?? 0) + 1);
  }
};

const keyOf = (cmd: FwCommand): string => {
  const t = cmd.args.indexOf('--table');
  const d = cmd.args.indexOf('--delete');
  return `${cmd.program}/${cmd.args[t + 1] ?? 'filter'}/${cmd.args[d + 1] ?? ''}`;
};

const iptablesDrift = async (scope: OpScope, networks: NetworkStatus[], full: boolean): Promise<Drift[]> => {
  const mine = networks.filter((n) => n.removals.iptables !== undefined);
  if (mine.length === 0) return [];
  const counts = new Map<string, number>();
  const setup: PrivateState = emptyPrivateState();
  const read: Array<'ipv4' | 'ipv6'> = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const res = await runStep(scope, { argv: iptablesSave(family), purpose: 'query' });
    if (res.exitCode !== 0) continue;
    countIptables(res.stdout, family === 'ipv4' ? 'iptables' : 'ip6tables', counts);
    parseIptablesSave(res.stdout, setup[family]);
    read.push(family);
  }
  // The set-up of a family whose save could not be read is not judged.
  const setupCmds = privateSetupRepair('iptables', setup, read);
  const expected = new Map<string, number>();
  for (const n of mine) for (const c of commandsOf(n.removals.iptables)) expected.set(keyOf(c), (expected.get(keyOf(c)) ?? 0) + 1);
  const chains = new Set([...counts.keys(), ...expected.keys()]);
  const excess = [...chains].filter((k) => (counts.get(k) ?? 0) > (expected.get(k) ?? 0));
  const short = [...chains].filter((k) => (counts.get(k) ?? 0) < (expected.get(k) ?? 0));
  const out: Drift[] = [];
  if (!full && excess.length === 0 && short.length === 0) { setupDrift(mine, 'iptables', setupCmds, out); return out; }
  for (const n of mine) {
    const missing: string[] = [];
    for (const c of commandsOf(n.removals.iptables)) {
      const res = await runStep(scope, { argv: iptablesCheckOf(c), purpose: 'query' });
      if (res.exitCode !== 0) missing.push(`${c.program} ${c.args.join(' ').replace('--delete', '--insert')}`);
    }
    if (missing.length > 0) out.push({ network: n.name, backend: 'iptables', missing, foreign: [] });
  }
  const foreign = excess.map((k) => `${k.replace(/\//g, ' ')}: ${(counts.get(k) ?? 0) - (expected.get(k) ?? 0)} rule(s) nobody recorded`);
  if (foreign.length > 0) {
    const first = out[0] ?? { network: mine[0]?.name ?? '', backend: 'iptables' as const, missing: [], foreign: [] };
    first.foreign.push(...foreign);
    if (out.length === 0) out.push(first);
  }
  setupDrift(mine, 'iptables', setupCmds, out);
  return out;
};

// Compares the kernel with the log for the given active networks (default: all active ones).
// `onUnsettled`: a network's firewalld binding could not be asked (firewalld restarting) or was
// missing: look again soon.
export const findDrift = async (env: EngineEnv, names?: readonly string[], opts: { full?: boolean; onUnsettled?: (network: string) => void } = {}): Promise<Drift[]> => {
  const networks = Object.values(env.journal.store.state().networks)
    .filter((n) => n.state === 'active' && (names === undefined || names.length === 0 || names.includes(n.name)));
  const scope: OpScope = { op: newOpId(), network: undefined, journal: env.journal, runner: env.runner, counter: { next: 1 } };
  const drift: Drift[] = [];
  if (networks.some((n) => n.removals.nftables !== undefined)) {
    const own = await readNftOwn(scope);
    drift.push(...nftDrift(networks, own.rules, env));
    setupDrift(networks, 'nftables', privateSetupRepair('nftables', own.setup, own.read), drift);
  }
  for (const t of await tcDrift(scope, networks)) {
    const d = drift.find((x) => x.network === t.network && x.backend === t.backend);
    if (d !== undefined) d.missing.push(...t.missing); else drift.push(t);
  }
  drift.push(...await iptablesDrift(scope, networks, opts.full ?? false));
  const indexed = networks.filter((n) => n.removals['nftables-indexed'] !== undefined);
  if (indexed.length > 0) {
    const view = await readIndexedView(scope);
    for (const n of indexed) {
      const d = indexedDiff(view, definitionOf(env.journal.store, n.name));
      if (d.missing.length > 0 || d.foreign.length > 0) drift.push({ network: n.name, backend: 'nftables-indexed', ...d });
    }
  }
  for (const n of networks) {
    const { missing: gone, unjudged } = await missingIntegration(scope, n);
    // firewalld mid-reload may take a binding back: whatever was unsure or repaired is looked at again.
    if (unjudged || gone.some((g) => g.neighbour === 'firewalld')) (opts.onUnsettled ?? env.onUnsettled)?.(n.name);
    if (gone.length === 0) continue;
    const missing = gone.map((s) => `${s.neighbour}: ${s.argv.join(' ')}`);
    const d = drift.find((x) => x.network === n.name);
    if (d !== undefined) { d.missing.push(...missing); d.neighbours = gone; } else drift.push({ network: n.name, backend: n.backend ?? 'nftables', missing, foreign: [], neighbours: gone });
  }
  // The outputs that show the drift stay in the log in full; an idle check keeps only digests.
  if (drift.length > 0) env.journal.keep(scope.op);
  for (const d of drift) env.journal.note({ type: 'drift.found', network: d.network, data: { missing: d.missing, foreign: d.foreign } });
  await env.journal.flush();
  return drift;
};

// Puts each drifted network's rules back (REPAIR through its machine) and logs the repair.
export const repairDrift = async (env: EngineEnv, drift: readonly Drift[], run: (name: string) => Promise<unknown>): Promise<string[]> => {
  const repaired: string[] = [];
  for (const { network, setups, rules, neighbours } of planDriftRepair(drift)) {
    // The set-up first: the rules hang from it (a repair of the rules alone trusts it is there).
    for (const backend of setups) await repairAside(env, network, (scope) => repairPrivateSetup(scope, backend));
    // The rules first, then the neighbour: a firewalld reload takes both, and a bridge back in its
    // zone before its masquerade is back lets guests' traffic out unmasqueraded (and conntrack then
    // keeps those flows unmasqueraded).
    if (rules) await run(network);
    if (neighbours.length > 0) await repairAside(env, network, (scope) => retakeSteps(scope, network, neighbours));
    await env.journal.write({ type: 'drift.repaired', network, data: {} });
    repaired.push(network);
  }
  return repaired;
};

// A repair beside the network's rules (its missing integration steps, the shared private set-up),
// as one operation of its own (no rule of the network and no machine state changes: it stays active).
const repairAside = async (env: EngineEnv, name: string, work: (scope: OpScope) => Promise<void>): Promise<void> => {
  const scope = await openScope(env, name, 'repair');
  try {
    await work(scope);
  } catch (err) {
    await env.journal.write({ type: 'operation.failed', network: name, op: scope.op, data: { reason: err instanceof Error ? err.message : String(err) } });
    throw err;
  }
  env.journal.note({ type: 'operation.committed', network: name, op: scope.op, data: {} });
  await env.journal.flush();
};
