import { bridgesAddedBy } from '../host/index.js';
import { buildRules, isIndexedCommand, removalOfRules } from '../firewall/index.js';
import type { EngineEnv } from './env.js';
import { removeCommands } from './firewall-driver.js';
import { bridgeExists, deleteBridge } from './host-driver.js';
import { commandMentions, deleteByHandle, unrecordedNftRules } from './kernel-view.js';
import { removeIntegration, rollbackIntegrationIntents } from './neighbours.js';
import { definitionOf, networkStatus } from './network-lookup.js';
import { stateAfterRollback } from './plan.js';
import { recordTransition } from './transitions.js';
import type { OpScope } from './steps.js';
import { errorMessage } from '../errors.js';


// Undoes what an operation did that the log does not account for, reading the kernel instead of
// guessing: each program run was recorded as an intent before it started, but the process may have
// died before its result was written. Afterwards the network stands on exactly its recorded
// removals (the rule sets the log says are installed); reconcile then drives it to what is wanted.
//
// - nftables: rules in our tables that mention the network and whose handle no recorded removal
//   holds were added by the interrupted operation: delete them by handle.
// - iptables: if no iptables removal is recorded for the network, its intended inserts are undone
//   with --delete (errors ignored: the batch may never have run; iptables-restore is atomic).
// - a bridge the operation set out to create, and that is not recorded as ours, is deleted.
export const rollbackInFlight = async (env: EngineEnv, name: string, reason: unknown, opts: { writeTransition?: boolean } = {}): Promise<'rolled-back' | 'none'> => {
  await env.journal.flush();   // program runs only noted (queries) are steps too: numbers stay unique
  const st = networkStatus(env.journal.store, name);
  const inFlight = st.inFlight;
  if (inFlight === null) return 'none';
  const def = definitionOf(env.journal.store, name);
  const scope: OpScope = {
    op: inFlight.op, network: name, journal: env.journal, runner: env.runner,
    counter: { next: Math.max(0, ...inFlight.steps.map((s) => s.step)) + 1 },
  };
  const applies = inFlight.steps.filter((s) => s.purpose === 'apply');
  if (applies.some((s) => s.argv[0] === 'nft')) {
    await removeCommands(scope, (await unrecordedNftRules(scope, [def])).map(deleteByHandle), 'rollback');
  }
  // The indexed layout: a batch is one transaction that either went in or not; if the log does not
  // record the network's indexed rules, whatever of them is there goes (by name, errors ignored).
  if (st.removals['nftables-indexed'] === undefined && applies.some((s) => (s.undo ?? []).some(isIndexedCommand))) {
    await removeCommands(scope, removalOfRules(buildRules(def, 'nftables-indexed')).groups.flatMap((g) => g.commands), 'rollback');
  }
  if (st.removals.iptables === undefined) {
    const undos = applies.filter((s) => s.argv[0] !== 'nft').flatMap((s) => s.undo ?? []).filter((c) => commandMentions(def, c)).reverse();
    await removeCommands(scope, undos, 'rollback');
  }
  await rollbackIntegrationIntents(scope, st, inFlight);
  // A single `ip link add`, or its line in an `ip -batch -` shared by the operation's networks.
  const madeBridge = inFlight.steps.some((s) => s.purpose === 'host' && bridgesAddedBy(s).includes(st.bridge));
  if (inFlight.kind === 'start' && Object.keys(st.removals).length === 0 && (madeBridge || st.bridgeCreated)) {
    if (await bridgeExists(scope, st.bridge)) await deleteBridge(scope, name, st.bridge);
  }
  // Recovery changes no recorded removal: the network ends on exactly those it had.
  const left = Object.keys(st.removals);
  // A start undone or a stop finished: the network's neighbour integration goes too.
  const ends = stateAfterRollback(st);
  if (ends === 'stopped' && (inFlight.kind === 'start' || inFlight.kind === 'stop')) await removeIntegration(scope, name, 'rollback');
  // A stop that removed every rule but died before the bridge went: finish it (a stop does not
  // roll back; the rules are gone and the recorded state says so).
  if (inFlight.kind === 'stop' && left.length === 0 && st.bridgeCreated && await bridgeExists(scope, st.bridge)) {
    await deleteBridge(scope, name, st.bridge);
  }
  await env.journal.write({
    type: 'operation.rolled-back', network: name, op: inFlight.op,
    data: { reason: reason === null || reason === undefined ? 'interrupted' : errorMessage(reason) },
  });
  // Leave the machine's recorded state where the log now stands.
  if (opts.writeTransition === true && st.state !== ends) {
    recordTransition(env.journal, { network: name, op: inFlight.op, from: st.state, to: ends, event: 'RECOVER' });
    await env.journal.flush();
  }
  return 'rolled-back';
};
