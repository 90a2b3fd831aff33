// The projection: every network's status, folded from the log. Pure and total: fold never throws
// and never mutates its input (unchanged parts are shared), so snapshots, tests and replays agree.
import type { NetworkDef } from '../src/definition/types.js';
import type { Backend, FwCommand, FwRemoval } from '../src/firewall/model.js';
import type { IntegrationStep } from '../src/firewall/neighbours/model.js';
import type { CommandPurpose, EventData, EventType, OperationKind } from './events.js';
import { GENESIS_HASH } from './hash.js';
import type { LogRecord } from './record.js';

export interface StepStatus {
  step: number;
  argv: string[];
  stdin?: string;
  purpose: CommandPurpose;
  undo?: FwCommand[];
  integration?: IntegrationStep;
  result?: { exitCode: number; stdout: string; stderr: string; durationMs?: number };
}

export interface InFlight {
  op: string;
  kind: OperationKind;
  from?: Backend;
  to?: Backend;
  strategy?: string;
  startedSeq: number;
  steps: StepStatus[];
}

export interface NetworkStatus {
  name: string;
  definition: NetworkDef | null;
  state: string;                  // the machine's state; 'stopped' until a transition says otherwise
  backend: Backend | null;        // backend of the rules currently installed
  bridge: string;
  bridgeCreated: boolean;         // vnetfw created the bridge, so stop deletes it
  // Every backend's removal still outstanding. During a make-before-break switch both backends'
  // rules exist until the old ones are cleared; recovery needs both.
  removals: Partial<Record<Backend, FwRemoval>>;
  inFlight: InFlight | null;
  // Neighbour integration steps in place (absent: none), in the order they were taken.
  integration?: IntegrationStep[];
  lastError?: string;
  drift?: { missing: string[]; foreign: string[]; seq: number };
}

export interface ProjectionState {
  seq: number;                    // last folded record (0 = none)
  hash: string;                   // its hash (genesis when none)
  networks: Record<string, NetworkStatus>;
  config?: { backend: Backend; strategy: string; path: string; seq: number };
  // Host sysctls vnetfw changed, with the value they had before the first change.
  sysctl: Record<string, { value: string; previous?: string }>;
  // Backends whose private set-up an operation found or put in place (setup.recorded), with that
  // record's seq. Absent until the first such record (a log older than it folds as before).
  setup?: Partial<Record<Backend, number>>;
}

export const emptyState = (): ProjectionState => ({ seq: 0, hash: GENESIS_HASH, networks: {}, sysctl: {} });

const newNetwork = (name: string, definition: NetworkDef): NetworkStatus => ({
  name, definition, state: 'stopped', backend: null, bridge: definition.bridge.name, bridgeCreated: false,
  removals: {}, inFlight: null,
});

type Data<K extends EventType> = EventData[K];

// Applies one record to one network's status; undefined = the record does not change it.
const foldNetwork = (n: NetworkStatus, rec: LogRecord): NetworkStatus | undefined => {
  switch (rec.type) {
    case 'operation.started': {
      const d = rec.data as Data<'operation.started'>;
      const inFlight: InFlight = { op: rec.op ?? '', kind: d.kind, startedSeq: rec.seq, steps: [] };
      if (d.from !== undefined) inFlight.from = d.from;
      if (d.to !== undefined) inFlight.to = d.to;
      if (d.strategy !== undefined) inFlight.strategy = d.strategy;
      return { ...n, inFlight };
    }
    case 'command.intended': {
      if (n.inFlight === null || n.inFlight.op !== rec.op) return undefined; // not part of the operation
      const d = rec.data as Data<'command.intended'>;
      // An intent's model commands are not kept: nothing replays them (the undo and the argv/stdin do).
      const step: StepStatus = { step: d.step, argv: d.argv, purpose: d.purpose };
      if (d.stdin !== undefined) step.stdin = d.stdin;
      if (d.undo !== undefined) step.undo = d.undo;
      if (d.integration !== undefined) step.integration = d.integration;
      return { ...n, inFlight: { ...n.inFlight, steps: [...n.inFlight.steps, step] } };
    }
    case 'command.finished': {
      if (n.inFlight === null || n.inFlight.op !== rec.op) return undefined;
      const d = rec.data as Data<'command.finished'>;
      let i = n.inFlight.steps.length - 1;
      while (i >= 0 && n.inFlight.steps[i]!.step !== d.step) i--; // the latest step with that number
      if (i < 0) return undefined;
      const steps = n.inFlight.steps.slice();
      steps[i] = { ...steps[i]!, result: { exitCode: d.exitCode, stdout: d.stdout, stderr: d.stderr, durationMs: d.durationMs } };
      return { ...n, inFlight: { ...n.inFlight, steps } };
    }
    case 'operation.committed': {
      const d = rec.data as Data<'operation.committed'>;
      const { lastError: _e, ...rest } = n;
      return { ...rest, inFlight: null, backend: d.backend ?? n.backend };
    }
    case 'operation.rolled-back':
    case 'operation.failed':
      return { ...n, inFlight: null, lastError: (rec.data as Data<'operation.failed'>).reason };
    case 'removal.recorded': {
      const { removal } = rec.data as Data<'removal.recorded'>;
      return { ...n, removals: { ...n.removals, [removal.backend]: removal }, backend: removal.backend };
    }
    case 'removal.cleared': {
      const { backend } = rec.data as Data<'removal.cleared'>;
      const removals = { ...n.removals };
      delete removals[backend];
      // The installed backend is what is still recorded (the other one, mid make-before-break).
      const left = n.backend !== null && n.backend !== backend && removals[n.backend] !== undefined ? n.backend : (Object.keys(removals)[0] as Backend | undefined);
      return { ...n, removals, backend: left ?? null };
    }
    case 'integration.recorded': {
      const { step } = rec.data as Data<'integration.recorded'>;
      const kept = (n.integration ?? []).filter((s) => s.id !== step.id);
      return { ...n, integration: [...kept, step] };
    }
    case 'integration.removed': {
      const { id } = rec.data as Data<'integration.removed'>;
      const kept = (n.integration ?? []).filter((s) => s.id !== id);
      if (kept.length > 0) return { ...n, integration: kept };
      const { integration: _i, ...rest } = n;
      return rest;
    }
    case 'network.transition':
      return { ...n, state: (rec.data as Data<'network.transition'>).to };
    case 'bridge.created':
      return { ...n, bridge: (rec.data as Data<'bridge.created'>).bridge, bridgeCreated: true };
    case 'bridge.deleted':
      return { ...n, bridgeCreated: false };
    case 'drift.found': {
      const d = rec.data as Data<'drift.found'>;
      return { ...n, drift: { missing: d.missing, foreign: d.foreign, seq: rec.seq } };
    }
    case 'drift.repaired': {
      const { drift: _d, ...rest } = n;
      return rest;
    }
    default:
      return undefined;
  }
};

// A replay folds records into a draft it owns: the networks and sysctl maps are copied once, at
// the first change after a result was handed out, and then changed in place. Folding k records
// over n networks thus costs O(n + k) instead of a copy of the whole map per record (O(n * k):
// a start of 1000 networks writes several records per network). What `result()` returns is never
// changed afterwards: the next change copies again.
export interface Replay {
  add(rec: LogRecord): void;
  result(): ProjectionState;
}

export const replay = (from: ProjectionState): Replay => {
  let seq = from.seq;
  let hash = from.hash;
  let config = from.config;
  let networks = from.networks;
  let sysctl = from.sysctl;
  let setup = from.setup;
  let ownNetworks = false;
  let ownSysctl = false;
  let last: ProjectionState | undefined = from;
  const setNetwork = (name: string, n: NetworkStatus | undefined): void => {
    if (!ownNetworks) { networks = { ...networks }; ownNetworks = true; }
    if (n === undefined) delete networks[name];
    else networks[name] = n;
  };
  const add = (rec: LogRecord): void => {
    last = undefined;
    seq = rec.seq;
    hash = rec.hash;
    switch (rec.type) {
      case 'network.defined': {
        const { definition } = rec.data as Data<'network.defined'>;
        const old = networks[definition.name];
        // A redefinition keeps the runtime status (a running network stays running); the bridge
        // name follows the definition unless vnetfw created the current bridge.
        setNetwork(definition.name, old === undefined ? newNetwork(definition.name, definition)
          : { ...old, definition, bridge: old.bridgeCreated ? old.bridge : definition.bridge.name });
        return;
      }
      case 'network.undefined':
        if (rec.network !== undefined && Object.hasOwn(networks, rec.network)) setNetwork(rec.network, undefined);
        return;
      case 'config.changed': {
        const d = rec.data as Data<'config.changed'>;
        config = { backend: d.backend, strategy: d.strategy, path: d.path, seq: rec.seq };
        return;
      }
      case 'setup.recorded': {
        const d = rec.data as Data<'setup.recorded'>;
        setup = { ...setup, [d.backend]: rec.seq };
        return;
      }
      case 'host.sysctl': {
        const d = rec.data as Data<'host.sysctl'>;
        const prior = sysctl[d.key];
        const entry: { value: string; previous?: string } = { value: d.value };
        const previous = prior === undefined ? d.previous : prior.previous;
        if (previous !== undefined) entry.previous = previous;
        if (!ownSysctl) { sysctl = { ...sysctl }; ownSysctl = true; }
        sysctl[d.key] = entry;
        return;
      }
      default: {
        // A program run shared by several networks (one batch for many) names no network: it
        // belongs to every network whose operation in flight has its op id.
        if (rec.network === undefined && rec.op !== undefined && (rec.type === 'command.intended' || rec.type === 'command.finished')) {
          for (const n of Object.values(networks)) {
            if (n.inFlight?.op !== rec.op) continue;
            const changed = foldNetwork(n, rec);
            if (changed !== undefined) setNetwork(n.name, changed);
          }
          return;
        }
        const n = rec.network === undefined || !Object.hasOwn(networks, rec.network) ? undefined : networks[rec.network];
        if (n === undefined) return;
        const changed = foldNetwork(n, rec);
        if (changed !== undefined) setNetwork(n.name, changed);
      }
    }
  };
  const result = (): ProjectionState => {
    if (last !== undefined) return last;
    ownNetworks = false;
    ownSysctl = false;
    last = { ...from, seq, hash, networks, sysctl, ...(config === undefined ? {} : { config }), ...(setup === undefined ? {} : { setup }) };
    return last;
  };
  return { add, result };
};

export const fold = (state: ProjectionState, rec: LogRecord): ProjectionState => {
  const r = replay(state);
  r.add(rec);
  return r.result();
};

export const foldAll = (records: Iterable<LogRecord>, from: ProjectionState = emptyState()): ProjectionState => {
  const r = replay(from);
  for (const rec of records) r.add(rec);
  return r.result();
};
