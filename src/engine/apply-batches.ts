import { ExecError, type RunResult } from '../exec/index.js';
import {
  knownUndo, parseNftEcho, renderBatches, runtimeArgv, sideBySide, undoKnownUpFront, undoOf,
  type AppliedCommand, type Batch, type FwCommand, type FwRemoval, type Origin,
} from '../firewall/index.js';
import { runStep, type OpScope } from './steps.js';

// Running composed batches and taking them back: one batch per program, the undo of what went in
// recorded per network. Shared by the apply that knows the private set-up and the one that has
// not read it (firewall-driver.ts, unread-setup.ts).

// What an operation applied so far, so that a failure can undo exactly that.
export interface AppliedSoFar { byNetwork: Map<string, AppliedCommand[]> }

export const runTolerantOneByOne = async (scope: OpScope, cmds: readonly FwCommand[], purpose: 'apply' | 'remove' | 'rollback'):
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
  // The IPv4 and IPv6 restores side by side, as an apply's (sideBySide says which may).
  for (const group of sideBySide(renderBatches(cmds.map((c) => ({ ...c, ignoreErrors: true }))), 'removal')) {
    const failed = await allMembers(group, async (batch) => {
      const res = await runStep(scope, { argv: batch.argv, stdin: batch.stdin, commands: batch.commands, purpose });
      if (res.exitCode !== 0) await runTolerantOneByOne(scope, batch.commands, purpose);
    });
    if (failed !== undefined) throw failed.reason;
  }
};

export const removeRemoval = async (scope: OpScope, removal: FwRemoval, purpose: 'remove' | 'rollback' = 'remove'): Promise<void> =>
  removeCommands(scope, removal.groups.flatMap((g) => g.commands), purpose);

export const recordApplied = (applied: AppliedSoFar, origin: Origin | undefined, a: AppliedCommand): void => {
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

// The kernel refused the batch: the program ran to its end and said no. A killed or timed-out
// program is a failure of the operation, not a sign of a missing target or a refused rule.
export const refusedByKernel = (r: RunResult): boolean => r.exitCode > 0 && r.signal === undefined && r.timedOut !== true;

// Tolerated commands (the checksum rule) first travel in the main batch, which saves a process;
// only if that batch is refused is it retried with them apart, and from then on they stay apart
// for that host (runner).
export const splitTolerated = new WeakSet<object>();

// Runs one batch and records the undo of each network command that went in. A failed strict
// batch throws; with `undoOnFailure` (the set-up known) it first takes back what it may have put in.
export const applyBatch = async (scope: OpScope, batch: Batch, origins: Map<FwCommand, Origin>, applied: AppliedSoFar, undoOnFailure = true): Promise<void> => {
  // iptables and the indexed layout know every undo before running (it goes in the intent);
  // libvirt's nft layout learns them from the handles nft echoes.
  const upFront = batch.commands.every(undoKnownUpFront);
  const undo = upFront ? batch.commands.map(knownUndo).filter((u): u is FwCommand => u !== undefined) : undefined;
  const res = await runStep(scope, { argv: batch.argv, stdin: batch.stdin, commands: batch.commands, purpose: 'apply', ...(undo === undefined ? {} : { undo }) });
  if (res.exitCode !== 0) {
    if (!batch.ignoreErrors) {
      // iptables-restore commits table by table: blocks before the failing one did go in. An nft
      // script is one transaction: nothing went in (and an undo could take a network's earlier rules).
      if (undoOnFailure && undo !== undefined && batch.commands[0]?.program !== 'nft') await removeCommands(scope, [...undo].reverse(), 'rollback');
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

// Runs every member of a group side by side and waits for all of them, so that nothing runs on
// after a failure; the first member that failed, if any, with its error.
const allMembers = async (group: readonly Batch[], run: (b: Batch) => Promise<void>): Promise<{ batch: Batch; reason: unknown } | undefined> => {
  const outcomes = await Promise.allSettled(group.map(run));
  const i = outcomes.findIndex((o) => o.status === 'rejected');
  return i < 0 ? undefined : { batch: group[i]!, reason: (outcomes[i] as PromiseRejectedResult).reason };
};

// Runs a group of batches that may run side by side (sideBySide, in the firewall layer): a failed
// member has taken back its own batch (applyBatch), the others' undo is in `applied`. The first
// failed batch goes to `failed`, then its error is thrown.
export const applyGroup = async (
  scope: OpScope, group: readonly Batch[], origins: Map<FwCommand, Origin>, applied: AppliedSoFar, failed: (b: Batch) => void,
): Promise<void> => {
  const f = await allMembers(group, (b) => applyBatch(scope, b, origins, applied));
  if (f === undefined) return;
  failed(f.batch);
  throw f.reason;
};
