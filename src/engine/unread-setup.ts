import type { NetworkDef } from '../definition/types.js';
import { ExecError, type RunResult } from '../exec/index.js';
import {
  composeApply, emptiedSetupTables, emptyPrivateState, iptablesCheckOf, iptablesSave, iptablesUndo, knownUndo, privateSetupUndo,
  removalFromApplied, restoreFailure, restoreSections, setupFamilies, type Batch, type FwCommand, type FwRemoval, type RestoreSection,
} from '../firewall/index.js';
import { applyBatch, refusedByKernel, removeCommands, splitTolerated, undoApplied, type AppliedSoFar } from './apply-batches.js';
import { runStep, type OpScope } from './steps.js';

// The first apply on iptables when the log does not say the private set-up is there (a first
// start, a switch from nftables). Reading both families' rulesets first would cost two programs
// on every such switch; instead the set-up goes in the batches as if it were absent, each chain
// created with `-N`, which fails if the chain exists. Then iptables-restore names the line: what
// went in is taken back and the caller reads the set-up and applies knowing it ('read-first'). A
// batch that fails for another reason is taken back as far as it went in, table by table, and
// the operation fails as any other.
export type UnreadOutcome = Map<string, FwRemoval> | 'read-first';

// The sections of a failed batch that went in: the line its error names says; when it names none
// (killed, timed out, a failure before any line), the kernel is asked, section by section, whether
// one of its network rules is there (`iptables --check`). Sections go in as a prefix, and those
// carrying only set-up come first (composeApply), so the last section found in tells: it and
// every one before it. None found: none taken as gone in (at worst libvirt's empty private chains
// stay, as after any stop).
const committedSections = async (scope: OpScope, batch: Batch, result: RunResult | undefined, setup: ReadonlySet<FwCommand>): Promise<RestoreSection[]> => {
  const named = result === undefined ? null : restoreFailure(batch, result.stderr);
  if (named !== null) return named.committed;
  const sections = restoreSections(batch.commands);
  let last = -1;
  for (const [i, section] of sections.entries()) {
    const probe = section.commands.map((c) => (setup.has(c) ? undefined : iptablesUndo(c))).find((u) => u !== undefined);
    if (probe === undefined) continue;
    if ((await runStep(scope, { argv: iptablesCheckOf(probe), purpose: 'query' })).exitCode !== 0) break;
    last = i;
  }
  return sections.slice(0, last + 1);
};

// Takes back what the batches run so far put in: the network rules, then the set-up they created
// (jumps, chains), then a table iptables-nft created for it that is left empty.
const takeBack = async (scope: OpScope, done: readonly Batch[], failing: Batch, result: RunResult | undefined, applied: AppliedSoFar, setup: ReadonlySet<FwCommand>): Promise<void> => {
  await undoApplied(scope, applied);
  const committed = (await committedSections(scope, failing, result, setup)).flatMap((s) => s.commands);
  const rules = committed.filter((c) => !setup.has(c)).map(knownUndo).filter((u): u is FwCommand => u !== undefined);
  await removeCommands(scope, rules.reverse(), 'rollback');
  const madeSetup = [...done.flatMap((b) => b.commands), ...committed].filter((c) => setup.has(c));
  if (madeSetup.length === 0) return;
  await removeCommands(scope, privateSetupUndo(madeSetup), 'rollback');
  const drops: FwCommand[] = [];
  for (const family of setupFamilies(madeSetup)) {
    const save = await runStep(scope, { argv: iptablesSave(family), purpose: 'query' });
    if (save.exitCode === 0) drops.push(...emptiedSetupTables(madeSetup, family, save.stdout));
  }
  await removeCommands(scope, drops, 'rollback');
};

export const applyIptablesUnread = async (scope: OpScope, defs: readonly NetworkDef[]): Promise<UnreadOutcome> => {
  const merge = !splitTolerated.has(scope.runner);
  const { setup, batches, origins, riding } = composeApply('iptables', defs, { existing: emptyPrivateState(), mergeTolerated: merge });
  const setupSet = new Set(setup);
  const applied: AppliedSoFar = { byNetwork: new Map() };
  const done: Batch[] = [];
  for (const batch of batches) {
    try {
      await applyBatch(scope, batch, origins, applied, false);
      done.push(batch);
    } catch (err) {
      const result = err instanceof ExecError ? err.result : undefined;
      await takeBack(scope, done, batch, result, applied, setupSet);
      if (result === undefined) throw err;
      if (!refusedByKernel(result)) throw err;
      // The set-up was there after all: read it, then apply knowing it.
      const failed = restoreFailure(batch, result.stderr)?.failedCommand;
      if (failed !== undefined && setupSet.has(failed)) return 'read-first';
      // A batch that carried tolerated commands is worth another try without them.
      if (merge && batch.commands.some((c) => riding.has(c))) {
        splitTolerated.add(scope.runner);
        return 'read-first';
      }
      throw err;
    }
  }
  const out = new Map<string, FwRemoval>();
  for (const def of defs) out.set(def.name, removalFromApplied(applied.byNetwork.get(def.name) ?? [], 'iptables'));
  return out;
};
