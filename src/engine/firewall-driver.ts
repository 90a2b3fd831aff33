import type { NetworkDef } from '../definition/types.js';
import { ExecError } from '../exec/index.js';
import {
  composeApply, emptyPrivateState, iptablesSave, knownUndo, nftListOwnTable, parseIptablesSave, parseNftEcho, parseNftListTable,
  privateSetupRepair, privateSetupUndo, removalFromApplied, renderBatches, runtimeArgv, undoKnownUpFront, undoOf,
  type AppliedCommand, type Backend, type Batch, type FwCommand, type FwRemoval, type Origin, type PrivateState,
} from '../firewall/index.js';
import { deleteByHandle, unrecordedNftRules } from './kernel-view.js';
import { runStep, type OpScope } from './steps.js';

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

// What an operation applied so far, so that a failure can undo exactly that.
export interface AppliedSoFar { byNetwork: Map<string, AppliedCommand[]> }

const runTolerantOneByOne = async (scope: OpScope, cmds: readonly FwCommand[], purpose: 'apply' | 'remove' | 'rollback'):
Promise<Array<{ cmd: FwCommand; handle: number | undefined; ok: boolean }>> => {
  const out: Array<{ cmd: FwCommand; handle: number | undefined; ok: boolean }> = [];
  for (const cmd of cmds) {
    const res = await runStep(scope, { argv: runtimeArgv({ ...cmd, autoRollback: purpose === 'apply' }), commands: [cmd], purpose });
    const m = /# handle (\d+)/.exec(res.stdout);
    out.push({ cmd, handle: m?.[1] === undefined ? undefined : Number(m[1]), ok: res.exitCode === 0 });
  }
  return out;
};

// Runs removal commands (libvirt's fwRemoval, or an undo list): batched, and if a batch fails
// because something was already gone, one by one with errors ignored, as libvirt does.
export const removeCommands = async (scope: OpScope, cmds: readonly FwCommand[], purpose: 'remove' | 'rollback' = 'remove'): Promise<void> => {
  if (cmds.length === 0) return;
  for (const batch of renderBatches(cmds.map((c) => ({ ...c, ignoreErrors: true })))) {
    const res = await runStep(scope, { argv: batch.argv, stdin: batch.stdin, commands: batch.commands, purpose });
    if (res.exitCode !== 0) await runTolerantOneByOne(scope, batch.commands, purpose);
  }
};

export const removeRemoval = async (scope: OpScope, removal: FwRemoval, purpose: 'remove' | 'rollback' = 'remove'): Promise<void> =>
  removeCommands(scope, removal.groups.flatMap((g) => g.commands), purpose);

const recordApplied = (applied: AppliedSoFar, origin: Origin | undefined, a: AppliedCommand): void => {
  if (origin?.network == null) return;  // private set-up is never undone (libvirt keeps it)
  const list = applied.byNetwork.get(origin.network) ?? [];
  list.push({ ...a, group: origin.group });
  applied.byNetwork.set(origin.network, list);
};

// Undo everything an apply recorded, newest first.
export const undoApplied = async (scope: OpScope, applied: AppliedSoFar): Promise<void> => {
  const undos = [...applied.byNetwork.values()].flat().map((a) => a.undo).reverse();
  await removeCommands(scope, undos, 'rollback');
  applied.byNetwork.clear();
};

// One firewall change at a time in this process (libvirt has the same process-wide mutex): two
// concurrent iptables-restore runs that both declare a new chain would flush each other's rules.
let tail: Promise<unknown> = Promise.resolve();
const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
  const run = tail.then(fn, fn);
  tail = run.catch(() => undefined);
  return run;
};

// The log says the private set-up is in place when some network's rules are recorded on this
// backend; then the kernel is not read at all (no ruleset read on the hot path). Should someone
// have removed it since, the batch fails, undoes itself, and the set-up is read and redone.
const setupRecorded = (scope: OpScope, backend: Backend): boolean =>
  Object.values(scope.journal.store.state().networks).some((n) => n.removals[backend] !== undefined);

// Adds the rules of `defs` on `backend` (plus whatever private set-up is missing) in one batch per
// program. On failure, undoes what it added and throws; on success returns each network's removal.
export const applyFirewall = (scope: OpScope, backend: Backend, defs: readonly NetworkDef[]): Promise<Map<string, FwRemoval>> =>
  serialised(async () => {
    // The indexed layout's set-up rides, idempotent, in every batch: nothing to read first.
    if (backend === 'nftables-indexed') return attemptApply(scope, backend, defs, null);
    if (setupRecorded(scope, backend)) {
      try {
        return await attemptApply(scope, backend, defs, null);
      } catch { /* the set-up is not what the log says: read it, then try once more */ }
    }
    return attemptApply(scope, backend, defs, await queryPrivateState(scope, backend));
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

// Tolerated commands (the checksum rule) first travel in the main batch, which saves a process;
// only if that batch is refused is it retried with them apart, and from then on they stay apart
// for that host (runner).
const splitTolerated = new WeakSet<object>();

const attemptApply = async (scope: OpScope, backend: Backend, defs: readonly NetworkDef[], existing: PrivateState | null, merge = !splitTolerated.has(scope.runner)): Promise<Map<string, FwRemoval>> => {
  const { setup, batches, origins, riding } = composeApply(backend, defs, { existing, mergeTolerated: merge });
  const applied: AppliedSoFar = { byNetwork: new Map() };
  let failing: Batch | null = null;
  try {
    // One program at a time, so the log's order is the order things happened in (an audit reads
    // it that way, and a crash leaves at most one program's outcome unknown).
    for (const batch of batches) {
      failing = batch;
      await applyBatch(scope, batch, origins, applied);
    }
  } catch (err) {
    await undoApplied(scope, applied);
    // A program killed after it ran leaves no echo of what it added: find it in the kernel.
    if (backend === 'nftables') await removeCommands(scope, (await unrecordedNftRules(scope, defs)).map(deleteByHandle), 'rollback');
    if (existing !== null && backend !== 'nftables-indexed') await removeCommands(scope, privateSetupUndo(setup, existing), 'rollback');
    // Only a batch that carried tolerated commands is worth another try without them.
    // A killed or timed-out program is a failure of the operation, not a sign of a missing target.
    const refused = err instanceof ExecError && err.result.exitCode > 0 && err.result.signal === undefined && err.result.timedOut !== true;
    if (merge && refused && failing !== null && failing.commands.some((c) => riding.has(c))) {
      splitTolerated.add(scope.runner);
      return attemptApply(scope, backend, defs, existing, false);
    }
    throw err;
  }
  const out = new Map<string, FwRemoval>();
  for (const def of defs) out.set(def.name, removalFromApplied(applied.byNetwork.get(def.name) ?? [], backend));
  return out;
};

const applyBatch = async (scope: OpScope, batch: Batch, origins: Map<FwCommand, Origin>, applied: AppliedSoFar): Promise<void> => {
  // iptables and the indexed layout know every undo before running (it goes in the intent);
  // libvirt's nft layout learns them from the handles nft echoes.
  const upFront = batch.commands.every(undoKnownUpFront);
  const undo = upFront ? batch.commands.map(knownUndo).filter((u): u is FwCommand => u !== undefined) : undefined;
  const res = await runStep(scope, { argv: batch.argv, stdin: batch.stdin, commands: batch.commands, purpose: 'apply', ...(undo === undefined ? {} : { undo }) });
  if (res.exitCode !== 0) {
    if (!batch.ignoreErrors) {
      // iptables-restore commits table by table: blocks before the failing one did go in. An nft
      // script is one transaction: nothing went in (and an undo could take a network's earlier rules).
      if (undo !== undefined && batch.commands[0]?.program !== 'nft') await removeCommands(scope, [...undo].reverse(), 'rollback');
      throw new ExecError(res);
    }
    // A tolerated group (the DHCP checksum rule): keep what works, as libvirt does per command.
    for (const r of await runTolerantOneByOne(scope, batch.commands, 'apply')) {
      if (r.ok && (r.cmd.program !== 'nft' || r.handle !== undefined)) recordApplied(applied, origins.get(r.cmd), { command: r.cmd, undo: undoOf(r.cmd, r.handle) });
    }
    return;
  }
  const handles = upFront ? [] : parseNftEcho(batch.commands, res.stdout);
  batch.commands.forEach((cmd, i) => {
    const origin = origins.get(cmd);
    if (origin?.network == null) return;
    const u = upFront ? knownUndo(cmd) : undoOf(cmd, handles[i]);
    if (u !== undefined) recordApplied(applied, origin, { command: cmd, undo: u });
  });
};
