import type { NetworkDef } from '../definition/types.js';
import {
  echoedHandle, factsFromRuleset, NFT_LIST_RULESET, firewalldQueries, markedHandles, noNeighbours, parseZones, planIntegration,
  VNETFW_ZONE, withHandle, type IntegrationStep, type NeighbourFacts,
} from '../firewall/index.js';
import { RulesetError } from '../ruleset/index.js';
import type { InFlight, NetworkStatus } from '../../state/index.js';
import type { EngineEnv } from './env.js';
import { EngineError } from './errors.js';
import { runStep, type OpScope } from './steps.js';

// Integration with the host's other firewall managers (firewalld, Docker, host nftables tables):
// each step is one program run whose removal is in its intent and, once it ran, in an
// `integration.recorded` record; `integration.removed` says it is gone. The steps are built in
// src/firewall/neighbours; this only reads the kernel and firewalld, runs and records.

// firewall-cmd talks to firewalld over D-Bus; a firewalld that does not answer must not hang us.
// A reload rebuilds firewalld's whole configuration and may take much longer than a question.
const FIREWALLD_TIMEOUT_MS = 15_000;
const FIREWALLD_RELOAD_TIMEOUT_MS = 120_000;
const timeoutOf = (argv: readonly string[]): number | undefined => {
  if (argv[0] !== 'firewall-cmd') return undefined;
  return argv.includes('--reload') || argv.includes('--permanent') ? FIREWALLD_RELOAD_TIMEOUT_MS : FIREWALLD_TIMEOUT_MS;
};

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

const firewalldRunning = async (scope: OpScope): Promise<boolean> => {
  const st = await runStep(scope, { argv: [...firewalldQueries.state], purpose: 'query', timeoutMs: FIREWALLD_TIMEOUT_MS });
  return st.exitCode === 0 && st.stdout.trim() === 'running';
};

// firewalld's zones, or null when it does not run. Every firewall-cmd costs a Python start and a
// D-Bus round trip, so the zones are asked first; `--state` only tells a failure apart.
const readFirewalld = async (scope: OpScope): Promise<{ zones: string[] } | null> => {
  const z = await runStep(scope, { argv: [...firewalldQueries.zones], purpose: 'query', timeoutMs: FIREWALLD_TIMEOUT_MS });
  if (z.exitCode === 0) return { zones: parseZones(z.stdout) };
  if (z.timedOut === true || await firewalldRunning(scope)) {
    throw new EngineError('EFIREWALLD', `firewalld does not answer: firewall-cmd --get-zones: ${z.timedOut === true ? 'no answer' : firstLine(z.stderr) || `exit ${z.exitCode}`}`);
  }
  return null;
};

// One read of the ruleset (iptables-nft tables included); firewalld is asked only when its rules
// are in the kernel or the network names a zone. No nft on PATH: nothing is known to block.
export const readNeighbours = async (scope: OpScope, wantFirewalld: boolean): Promise<NeighbourFacts> => {
  const res = await runStep(scope, { argv: [...NFT_LIST_RULESET], purpose: 'query' });
  let facts = noNeighbours();
  if (res.exitCode === 0) {
    try { facts = factsFromRuleset(res.stdout); } catch (e) { if (!(e instanceof RulesetError)) throw e; }
  }
  if (facts.firewalldSeen || wantFirewalld) facts.firewalld = await readFirewalld(scope);
  return facts;
};

// One neighbour change at a time in this process: networks of one command start side by side, and
// two of them must not both install the zone, nor both decide whether the other still needs it.
let tail: Promise<unknown> = Promise.resolve();
const oneAtATime = <T>(fn: () => Promise<T>): Promise<T> => {
  const run = tail.then(fn, fn);
  tail = run.catch(() => undefined);
  return run;
};

// The facts last read in this process, for the operation that read them. The networks of one
// command start one after the other here; as long as none of them changed a neighbour, the next
// one plans from the same read (a start of 1000 networks would otherwise list the whole ruleset
// 1000 times, and flush the log before each). Any change by us (a step taken or undone) forgets it.
let cached: { op: string; facts: NeighbourFacts; askedFirewalld: boolean } | undefined;
const forget = (): void => { cached = undefined; };

const usesVnetfwZone = (n: NetworkStatus): boolean => (n.integration ?? []).some((s) => s.id === `firewalld:zone:${VNETFW_ZONE}`);

const runUndo = async (scope: OpScope, step: IntegrationStep, done: Set<string>, purpose: 'remove' | 'rollback'): Promise<void> => {
  for (const argv of step.undo) {
    const key = argv.join('\0');
    if (done.has(key)) continue;   // an earlier step's removal already did it (deleting the zone)
    done.add(key);
    forget();
    await runStep(scope, { argv, purpose, ...(timeoutOf(argv) === undefined ? {} : { timeoutMs: timeoutOf(argv) }) });
  }
};

// Removes a network's recorded steps, newest first. A shared step (the zone vnetfw installed) that
// another network still uses is handed to that network instead of undone.
export const removeIntegration = (scope: OpScope, name: string, purpose: 'remove' | 'rollback' = 'remove'): Promise<void> =>
  oneAtATime(() => removeSteps(scope, name, purpose));

const removeSteps = async (scope: OpScope, name: string, purpose: 'remove' | 'rollback'): Promise<void> => {
  const store = scope.journal.store;
  await scope.journal.flush();   // the steps just noted are part of what is removed
  const steps = [...(store.state().networks[name]?.integration ?? [])].reverse();
  const done = new Set<string>();
  for (const step of steps) {
    const heir = step.shared === undefined ? undefined
      : Object.values(store.state().networks).find((n) => n.name !== name && usesVnetfwZone(n));
    if (heir !== undefined) {
      scope.journal.note({ type: 'integration.recorded', network: heir.name, op: scope.op, data: { step } });
      scope.journal.note({ type: 'integration.removed', network: name, op: scope.op, data: { id: step.id, to: heir.name } });
      continue;
    }
    await runUndo(scope, step, done, purpose);
    scope.journal.note({ type: 'integration.removed', network: name, op: scope.op, data: { id: step.id } });
  }
};

// firewall-cmd gives up on a reply after D-Bus's 25 s while firewalld goes on reloading (a slow
// machine, a large configuration): the reload counts as done once firewalld answers again and has
// the zone it was to load.
const reloadFinished = async (scope: OpScope): Promise<boolean> => {
  const end = Date.now() + FIREWALLD_RELOAD_TIMEOUT_MS;
  while (Date.now() < end) {
    const z = await runStep(scope, { argv: [...firewalldQueries.zones], purpose: 'query', timeoutMs: FIREWALLD_TIMEOUT_MS });
    if (z.exitCode === 0) return parseZones(z.stdout).includes(VNETFW_ZONE);
    if (z.timedOut !== true) await new Promise((r) => setTimeout(r, 500));
  }
  return false;
};

// Takes the planned steps in order; on a failure undoes the ones taken and throws, naming the
// neighbour. Warnings (a neighbour vnetfw does not change) go to env.warn.
export const integrate = (env: EngineEnv, scope: OpScope, def: NetworkDef): Promise<void> =>
  env.config.hostFirewall === 'off' ? Promise.resolve() : oneAtATime(() => takeSteps(env, scope, def));

const takeSteps = async (env: EngineEnv, scope: OpScope, def: NetworkDef): Promise<void> => {
  const conf = env.config;
  const wantFirewalld = def.bridge.zone !== undefined;
  let facts: NeighbourFacts;
  if (cached !== undefined && cached.op === scope.op && (cached.askedFirewalld || !wantFirewalld)) {
    facts = cached.facts;
  } else {
    await scope.journal.flush();   // what other networks of this command took is in the state
    facts = await readNeighbours(scope, wantFirewalld);
    cached = { op: scope.op, facts, askedFirewalld: facts.firewalldSeen || wantFirewalld };
  }
  const vnetfwZoneInstalled = Object.values(scope.journal.store.state().networks).some((n) => (n.integration ?? []).some((s) => s.shared !== undefined));
  const plan = planIntegration(def, facts, { mode: conf.hostFirewall, explicit: conf.hostFirewallExplicit, vnetfwZoneInstalled });
  for (const w of plan.warnings) env.warn?.(w);
  if (plan.error !== undefined) throw new EngineError(plan.error.code, plan.error.message);
  for (const step of plan.steps) {
    forget();
    const res = await runStep(scope, { argv: step.argv, purpose: 'apply', integration: step, ...(timeoutOf(step.argv) === undefined ? {} : { timeoutMs: timeoutOf(step.argv) }) });
    const handle = step.nftChain === undefined ? undefined : echoedHandle(res.stdout);
    const reloaded = res.exitCode !== 0 && step.argv.includes('--reload') && await reloadFinished(scope);
    if ((res.exitCode !== 0 && !reloaded) || (step.nftChain !== undefined && handle === undefined)) {
      await removeSteps(scope, def.name, 'rollback');
      await env.journal.flush();
      const who = step.neighbour === 'firewalld' ? 'firewalld' : step.neighbour === 'docker' ? "iptables (Docker's FORWARD)" : 'host nftables table';
      const why = res.timedOut === true ? 'no answer' : firstLine(res.stderr) || `exit ${res.exitCode}`;
      throw new EngineError('ENEIGHBOUR', `${who}: ${step.argv.join(' ')}: ${why}`);
    }
    const recorded = handle === undefined ? step : withHandle(step, handle);
    scope.journal.note({ type: 'integration.recorded', network: def.name, op: scope.op, data: { step: recorded } });
  }
};

// Crash recovery: steps the interrupted operation set out to take but whose result the log does
// not hold. Their removal is in the intent; an nft rule (handle unknown) is found by its comment.
export const rollbackIntegrationIntents = async (scope: OpScope, st: NetworkStatus, inFlight: InFlight): Promise<void> => {
  const recorded = new Set((st.integration ?? []).map((s) => s.id));
  const known = new Set(Object.values(scope.journal.store.state().networks).flatMap((n) => (n.integration ?? []).map((s) => s.handle)).filter((h) => h !== undefined));
  const pending = inFlight.steps.filter((s) => s.purpose === 'apply' && s.integration !== undefined && !recorded.has(s.integration.id))
    .map((s) => s.integration as IntegrationStep).reverse();
  const done = new Set<string>();
  for (const step of pending) {
    if (step.nftChain !== undefined && step.check !== undefined && step.marker !== undefined) {
      const list = await runStep(scope, { argv: step.check, purpose: 'query' });
      if (list.exitCode !== 0) continue;
      for (const h of markedHandles(list.stdout, step.marker).filter((x) => !known.has(x))) {
        await runUndo(scope, withHandle(step, h), done, 'rollback');
      }
    } else {
      await runUndo(scope, step, done, 'rollback');
    }
  }
};

// The steps of a network that are no longer in effect (a firewalld reload or restart forgot the
// bridge's zone, someone flushed DOCKER-USER). firewalld not answering: its steps are not judged.
// `unjudged`: some step could not be checked (firewalld does not answer: stopped or starting).
export const missingIntegration = async (scope: OpScope, st: NetworkStatus): Promise<{ missing: IntegrationStep[]; unjudged: boolean }> => {
  const steps = (st.integration ?? []).filter((s) => s.check !== undefined && s.shared === undefined);
  if (steps.length === 0) return { missing: [], unjudged: false };
  let firewalldUp: boolean | undefined;
  const missing: IntegrationStep[] = [];
  for (const step of steps) {
    const res = await runStep(scope, { argv: step.check as string[], purpose: 'query', ...(timeoutOf(step.argv) === undefined ? {} : { timeoutMs: timeoutOf(step.argv) }) });
    const present = res.exitCode === 0 && (step.handle === undefined || new RegExp(`# handle ${step.handle}$`, 'm').test(res.stdout));
    if (present) continue;
    // firewalld away (stopped, or restarting): nothing to judge until it answers again. A query's
    // "no" is exit 1: firewalld answered; 252 is firewall-cmd's NOT_RUNNING.
    if (step.neighbour === 'firewalld' && res.exitCode !== 1) {
      firewalldUp ??= res.timedOut !== true && res.exitCode !== 252 && await firewalldRunning(scope);
      if (!firewalldUp) continue;
    }
    missing.push(step);
  }
  return { missing, unjudged: firewalldUp === false };
};

// Takes the missing steps again (their old records are replaced by the new ones).
export const retakeSteps = (scope: OpScope, name: string, steps: readonly IntegrationStep[]): Promise<void> =>
  oneAtATime(() => retake(scope, name, steps));

const retake = async (scope: OpScope, name: string, steps: readonly IntegrationStep[]): Promise<void> => {
  for (const old of steps) {
    const step: IntegrationStep = old.nftChain === undefined ? old : { ...old, undo: [] };
    const { handle: _h, ...fresh } = step;
    forget();
    const res = await runStep(scope, { argv: fresh.argv, purpose: 'apply', integration: fresh, ...(timeoutOf(fresh.argv) === undefined ? {} : { timeoutMs: timeoutOf(fresh.argv) }) });
    if (res.exitCode !== 0) throw new EngineError('ENEIGHBOUR', `${fresh.argv.join(' ')}: ${firstLine(res.stderr) || `exit ${res.exitCode}`}`);
    const handle = fresh.nftChain === undefined ? undefined : echoedHandle(res.stdout);
    scope.journal.note({ type: 'integration.recorded', network: name, op: scope.op, data: { step: handle === undefined ? fresh : withHandle(fresh, handle) } });
  }
};
