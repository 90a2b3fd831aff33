import type { NetworkDef } from '../definition/types.js';
import type { Backend, FwRemoval } from '../firewall/index.js';
import { deleteByHandle, listNftRules, mentionsNetwork, recordedHandles } from './kernel-view.js';
import type { NetworkStatus } from '../../state/index.js';
import { applyFirewall, removeCommands, removeRemoval } from './firewall-driver.js';
import { bridgeExists, createBridge, deleteBridge, enableForwarding } from './host-driver.js';
import type { EngineEnv } from './env.js';
import { newOpId, type OpScope } from './steps.js';

// The work behind each machine state, as transactions: each either completes or undoes what it
// did before throwing. They write operation.started and the program records; the caller (the
// machine runtime) writes the outcome (committed / rolled-back) with the transition.

export type OpKind = 'start' | 'stop' | 'switch' | 'repair';

export const openScope = async (env: EngineEnv, network: string, kind: OpKind, extra: { from?: Backend; to?: Backend; strategy?: string } = {}): Promise<OpScope> => {
  const scope: OpScope = { op: newOpId(), network, journal: env.journal, runner: env.runner, nextStep: 1, ...(env.signal === undefined ? {} : { signal: env.signal }) };
  await env.journal.write({ type: 'operation.started', network, op: scope.op, data: { kind, ...extra } });
  return scope;
};

const recordRemoval = (scope: OpScope, network: string, removal: FwRemoval): void => {
  scope.journal.note({ type: 'removal.recorded', network, op: scope.op, data: { removal } });
};

const clearRemoval = (scope: OpScope, network: string, backend: Backend): void => {
  scope.journal.note({ type: 'removal.cleared', network, op: scope.op, data: { backend } });
};

// Bridge, forwarding, firewall; on failure the firewall undoes itself and a bridge made here goes.
export const startWork = async (env: EngineEnv, scope: OpScope, def: NetworkDef, backend: Backend): Promise<void> => {
  let created = false;
  try {
    if (!(await bridgeExists(scope, def.bridge.name))) {
      created = true;   // set first: a half-made bridge must be removed too
      await createBridge(scope, def);
    }
    await enableForwarding(scope, def, env.sysctl);
    if (def.forward.mode !== 'open') {
      const removals = await applyFirewall(scope, backend, [def]);
      const removal = removals.get(def.name);
      if (removal !== undefined) recordRemoval(scope, def.name, removal);
    }
  } catch (err) {
    if (created) await deleteBridge(scope, def.name, def.bridge.name).catch(() => undefined);
    throw err;
  }
};

// Removes every recorded rule set (errors ignored, as libvirt) and the bridge if vnetfw made it.
export const stopWork = async (scope: OpScope, st: NetworkStatus, opts: { keepBridge?: boolean } = {}): Promise<void> => {
  for (const [backend, removal] of Object.entries(st.removals) as Array<[Backend, FwRemoval]>) {
    await removeRemoval(scope, removal, 'remove');
    clearRemoval(scope, st.name, backend);
  }
  if (st.bridgeCreated && opts.keepBridge !== true) await deleteBridge(scope, st.name, st.bridge);
};

// Moves a network's rules to another backend without touching its bridge. make-before-break adds
// the new rules first, so at every instant one complete rule set filters the guests' traffic.
export const switchWork = async (scope: OpScope, st: NetworkStatus, def: NetworkDef, to: Backend, strategy: string): Promise<void> => {
  const old = (Object.entries(st.removals) as Array<[Backend, FwRemoval]>).filter(([b]) => b !== to);
  if (strategy === 'remove-first') {
    for (const [b, removal] of old) { await removeRemoval(scope, removal); clearRemoval(scope, def.name, b); }
    try {
      const removal = (await applyFirewall(scope, to, [def])).get(def.name);
      if (removal !== undefined) recordRemoval(scope, def.name, removal);
    } catch (err) {
      // Put the old backend's rules back so the guests are filtered as before.
      for (const [b] of old) {
        const back = (await applyFirewall(scope, b, [def])).get(def.name);
        if (back !== undefined) recordRemoval(scope, def.name, back);
      }
      throw err;
    }
    return;
  }
  const removal = (await applyFirewall(scope, to, [def])).get(def.name);
  if (removal !== undefined) recordRemoval(scope, def.name, removal);
  await scope.journal.flush();
  for (const [b, r] of old) { await removeRemoval(scope, r); clearRemoval(scope, def.name, b); }
};

// Drift repair: the recorded rules are (partly) gone or joined by foreign ones. nftables: add a
// fresh complete set first, then remove the recorded one by handle (no instant without filtering).
// iptables: a rule is known only by its text, so an identical fresh copy would be indistinguishable
// from the old one; remove the recorded set (errors ignored) and then add the fresh one.
export const repairWork = async (scope: OpScope, st: NetworkStatus, def: NetworkDef, backend: Backend): Promise<void> => {
  const old = st.removals[backend];
  if (backend === 'iptables' && old !== undefined) await removeRemoval(scope, old);
  const removal = (await applyFirewall(scope, backend, [def])).get(def.name);
  if (removal !== undefined) recordRemoval(scope, def.name, removal);
  await scope.journal.flush();
  if (backend === 'nftables' && old !== undefined) await removeRemoval(scope, old);
  if (backend === 'nftables') {
    // Rules in our chains that name this network but that no removal records are foreign: go.
    const known = recordedHandles(Object.values(scope.journal.store.state().networks).flatMap((n) => Object.values(n.removals) as FwRemoval[]));
    const orphans = (await listNftRules(scope)).filter((r) => r.chain !== 'forward' && !known.has(`${r.family}/${r.chain}/${r.handle}`) && mentionsNetwork(def, r.text));
    await removeCommands(scope, orphans.map(deleteByHandle));
  }
};
