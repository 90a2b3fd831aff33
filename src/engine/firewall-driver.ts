import type { NetworkDef } from '../definition/types.js';
import { ExecError } from '../exec/index.js';
import {
  composeApply, emptyPrivateState, failedLine, iptablesSave, nftListOwnTable, parseIptablesSave, parseNftListTable, privateSetupRepair,
  privateSetupUndo, removalFromApplied, renderBatches, sideBySide, type Backend, type Batch, type FwRemoval, type PrivateState,
} from '../firewall/index.js';
import { applyGroup, refusedByKernel, removeCommands, splitTolerated, undoApplied, type AppliedSoFar } from './apply-batches.js';
import { deleteByHandle, unrecordedNftRules } from './kernel-view.js';
import { runStep, type OpScope } from './steps.js';
import { applyIptablesUnread } from './unread-setup.js';

export { removeCommands, removeRemoval } from './apply-batches.js';
// Applies and removes firewall rules as batches (one transaction per program), for one or many
// networks at once. Builds no command itself: the firewall layer does; this only runs and records.

export const queryPrivateState = async (scope: OpScope, backend: Backend): Promise<PrivateState> => {
  const state = emptyPrivateState();
  if (backend === 'nftables') {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const res = await runStep(scope, { argv: nftListOwnTable(family), purpose: 'query' });
      // A failing list means "no table yet" (libvirt treats it the same way).
      if (res.exitCode === 0) parseNftListTable(family, res.stdout, state[family]);
    }
  } else {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const res = await runStep(scope, { argv: iptablesSave(family), purpose: 'query' });
      if (res.exitCode !== 0) throw new ExecError(res);
      parseIptablesSave(res.stdout, state[family]);
    }
  }
  return state;
};

// One firewall change at a time in this process (libvirt has the same process-wide mutex): two
// concurrent iptables-restore runs that both declare a new chain would flush each other's rules.
let tail: Promise<unknown> = Promise.resolve();
const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
  const run = tail.then(fn, fn);
  tail = run.catch(() => undefined);
  return run;
};

// The log says the private set-up is in place when an operation recorded it there (setup.recorded)
// or some network's rules are recorded on this backend; then the kernel is not read at all (no
// ruleset read on the hot path). Should someone have removed it since, the batch fails, undoes
// itself, and the set-up is read and redone.
const setupRecorded = (scope: OpScope, backend: Backend): boolean => {
  const state = scope.journal.store.state();
  return state.setup?.[backend] !== undefined || Object.values(state.networks).some((n) => n.removals[backend] !== undefined);
};

// A batch the kernel refused because something it names is not there: iptables-restore names the
// failing line (iptables-nft adds "No chain/target/match by that name", the legacy variant
// nothing more), nft says "No such file or directory". Not a killed or timed-out program.
const missingTarget = (err: unknown): boolean => {
  if (!(err instanceof ExecError) || !refusedByKernel(err.result)) return false;
  const r = err.result;
  return r.argv[0] === 'nft' ? /No such file or directory/.test(r.stderr) : failedLine(r.stderr) !== undefined;
};

// After rules went in on `backend`, its set-up is in place: recorded once, so that the next
// apply there (a start after every network stopped, a switch back) reads nothing first either.
// (Open networks get no rules and no set-up.)
const noteSetup = <T>(scope: OpScope, backend: Backend, defs: readonly NetworkDef[], result: T): T => {
  if (backend !== 'nftables-indexed' && defs.some((d) => d.forward.mode !== 'open') && scope.journal.store.state().setup?.[backend] === undefined) {
    scope.journal.note({ type: 'setup.recorded', data: { backend } });
  }
  return result;
};

// Adds the rules of `defs` on `backend` (plus whatever private set-up is missing) in one batch per
// program. On failure, undoes what it added and throws; on success returns each network's removal.
export const applyFirewall = (scope: OpScope, backend: Backend, defs: readonly NetworkDef[]): Promise<Map<string, FwRemoval>> =>
  serialised(async () => {
    // The indexed layout's set-up rides, idempotent, in every batch: nothing to read first.
    if (backend === 'nftables-indexed') return attemptApply(scope, backend, defs, null);
    if (setupRecorded(scope, backend)) {
      try {
        return await attemptApply(scope, backend, defs, null);
      } catch (err) {
        // Refused for a missing object: the set-up is not what the log says; read it, then try
        // once more. Any other failure is the operation's.
        if (!missingTarget(err)) throw err;
      }
    } else if (backend === 'iptables') {
      // Not recorded: apply as if absent (nothing read first); told otherwise, read and apply again.
      const first = await applyIptablesUnread(scope, defs);
      if (first !== 'read-first') return noteSetup(scope, backend, defs, first);
    }
    return noteSetup(scope, backend, defs, await attemptApply(scope, backend, defs, await queryPrivateState(scope, backend)));
  });

// Puts back a damaged private set-up (drift repair): read afresh, then what is missing of it, in
// one batch per program. Never undone (libvirt keeps its set-up too).
export const repairPrivateSetup = (scope: OpScope, backend: 'iptables' | 'nftables'): Promise<void> =>
  serialised(async () => {
    const cmds = privateSetupRepair(backend, await queryPrivateState(scope, backend));
    for (const batch of renderBatches(cmds)) {
      const res = await runStep(scope, { argv: batch.argv, stdin: batch.stdin, commands: batch.commands, purpose: 'apply' });
      if (res.exitCode !== 0) throw new ExecError(res);
    }
  });

const attemptApply = async (scope: OpScope, backend: Backend, defs: readonly NetworkDef[], existing: PrivateState | null, merge = !splitTolerated.has(scope.runner)): Promise<Map<string, FwRemoval>> => {
  const { setup, batches, origins, riding } = composeApply(backend, defs, { existing, mergeTolerated: merge });
  const applied: AppliedSoFar = { byNetwork: new Map() };
  const failing: { batch?: Batch } = {};
  try {
    // One program at a time, so the log's order is the order things happened in, except that
    // iptables-restore and ip6tables-restore run side by side (sideBySide): a crash then leaves two
    // outcomes unknown, both undone by recovery from their intents.
    for (const group of sideBySide(batches)) await applyGroup(scope, group, origins, applied, (b) => { failing.batch = b; });
  } catch (err) {
    await undoApplied(scope, applied);
    // A program killed after it ran leaves no echo of what it added: find it in the kernel.
    if (backend === 'nftables') await removeCommands(scope, (await unrecordedNftRules(scope, defs)).map(deleteByHandle), 'rollback');
    if (existing !== null && backend !== 'nftables-indexed') await removeCommands(scope, privateSetupUndo(setup, existing), 'rollback');
    // Only a batch that carried tolerated commands is worth another try without them.
    // A killed or timed-out program is a failure of the operation, not a sign of a missing target.
    const refused = err instanceof ExecError && refusedByKernel(err.result);
    if (merge && refused && failing.batch?.commands.some((c) => riding.has(c)) === true) {
      splitTolerated.add(scope.runner);
      return attemptApply(scope, backend, defs, existing, false);
    }
    throw err;
  }
  const out = new Map<string, FwRemoval>();
  for (const def of defs) out.set(def.name, removalFromApplied(applied.byNetwork.get(def.name) ?? [], backend));
  return out;
};
