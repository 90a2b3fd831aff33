import type { NetworkDef } from '../definition/types.js';
import type { Backend, FwRemoval } from '../firewall/index.js';
import type { NetworkStatus } from '../../state/index.js';
import { applyFirewall, removeCommands, removeRemoval } from './firewall-driver.js';
import { createBridges, deleteBridge, deleteBridges, enableForwarding } from './host-driver.js';
import { deleteByHandle, unrecordedNftRules } from './kernel-view.js';
import type { EngineEnv } from './env.js';
import { forNetwork, type OpScope } from './steps.js';

// The work behind each machine state. Each piece either completes or undoes what it did before
// throwing.

const recordRemoval = (scope: OpScope, network: string, removal: FwRemoval): void => {
  scope.journal.note({ type: 'removal.recorded', network, op: scope.op, data: { removal } });
};

const clearRemoval = (scope: OpScope, network: string, backend: Backend): void => {
  scope.journal.note({ type: 'removal.cleared', network, op: scope.op, data: { backend } });
};

// Adds the rules of many networks in one batch per program. If the batch fails (it undid
// itself), each network is tried on its own, so one bad network does not fail the others.
export const applyMany = async (scope: OpScope, backend: Backend, defs: readonly NetworkDef[]): Promise<Map<string, FwRemoval | Error>> => {
  const out = new Map<string, FwRemoval | Error>();
  const wanted = defs.filter((d) => d.forward.mode !== 'open');
  try {
    if (wanted.length > 0) for (const [n, r] of await applyFirewall(scope, backend, wanted)) out.set(n, r);
  } catch (err) {
    if (wanted.length === 1) throw err;
    for (const def of wanted) {
      try {
        for (const [n, r] of await applyFirewall(forNetwork(scope, def.name), backend, [def])) out.set(n, r);
      } catch (e) {
        out.set(def.name, e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
  for (const [n, r] of out) if (!(r instanceof Error)) recordRemoval(scope, n, r);
  for (const d of defs) if (d.forward.mode === 'open') out.set(d.name, { backend, groups: [] });
  // Not flushed here: the next program's intent (the old rules' removal) or the end of the
  // operation writes these removals in the same fsync.
  return out;
};

// Removes many networks' recorded rules in one batch per program (errors ignored, as libvirt).
export const removeMany = async (scope: OpScope, statuses: readonly NetworkStatus[], except?: Backend): Promise<void> => {
  const parts = statuses.flatMap((st) => (Object.entries(st.removals) as Array<[Backend, FwRemoval]>)
    .filter(([b]) => b !== except).map(([b, r]) => ({ st, b, r })));
  await removeCommands(scope, parts.flatMap((p) => p.r.groups.flatMap((g) => g.commands)));
  for (const p of parts) clearRemoval(scope, p.st.name, p.b);
};

// Per network, before its rules: the bridge (created only when absent; the bridges of all networks
// of the operation in one batch) and IP forwarding. A network that fails here has nothing left.
export const prepareHosts = async (env: EngineEnv, scope: OpScope, defs: readonly NetworkDef[]): Promise<Map<string, { created: boolean } | Error>> => {
  const out = await createBridges(scope, defs);
  for (const def of defs) {
    const r = out.get(def.name);
    if (r === undefined || r instanceof Error) continue;
    try {
      await enableForwarding(forNetwork(scope, def.name), def, env.sysctl);
    } catch (err) {
      await undoHost(forNetwork(scope, def.name), def, r.created);
      out.set(def.name, err instanceof Error ? err : new Error(String(err)));
    }
  }
  return out;
};

export const undoHost = async (scope: OpScope, def: NetworkDef, created: boolean): Promise<void> => {
  if (created) await deleteBridge(scope, def.name, def.bridge.name).catch(() => undefined);
};

// The bridges vnetfw made for stopping networks, all in one batch.
export const removeOurBridges = (scope: OpScope, statuses: readonly NetworkStatus[]): Promise<Map<string, true | Error>> =>
  deleteBridges(scope, statuses.filter((st) => st.bridgeCreated).map((st) => ({ network: st.name, bridge: st.bridge })));

// make-before-break for many networks: every new rule set is in place before any old one goes,
// so at every instant one complete rule set filters each network's guests.
export const switchMany = async (scope: OpScope, items: ReadonlyArray<{ st: NetworkStatus; def: NetworkDef }>, to: Backend): Promise<Map<string, FwRemoval | Error>> => {
  const applied = await applyMany(scope, to, items.map((i) => i.def));
  const done = items.filter((i) => !(applied.get(i.def.name) instanceof Error));
  await removeMany(scope, done.map((i) => i.st), to);
  return applied;
};

// libvirt's order, one network at a time: remove, then add; on failure the old rules come back.
export const switchRemoveFirst = async (scope: OpScope, st: NetworkStatus, def: NetworkDef, to: Backend): Promise<void> => {
  const old = (Object.entries(st.removals) as Array<[Backend, FwRemoval]>).filter(([b]) => b !== to);
  await removeMany(scope, [st], to);
  try {
    const removal = (await applyMany(scope, to, [def])).get(def.name);
    if (removal instanceof Error) throw removal;
  } catch (err) {
    for (const [b] of old) await applyMany(scope, b, [def]);
    throw err;
  }
};

// Drift repair: the recorded rules are (partly) gone or joined by foreign ones. nftables: add a
// fresh complete set first, then remove the recorded one by handle (no instant without filtering).
// iptables: a rule is known only by its text, so an identical fresh copy would be indistinguishable
// from the old one; remove the recorded set (errors ignored) and then add the fresh one.
export const repairWork = async (scope: OpScope, st: NetworkStatus, def: NetworkDef, backend: Backend): Promise<void> => {
  const old = st.removals[backend];
  if (backend === 'iptables' && old !== undefined) await removeRemoval(scope, old);
  const removal = (await applyMany(scope, backend, [def])).get(def.name);
  if (removal instanceof Error) throw removal;
  if (backend === 'nftables' && old !== undefined) await removeRemoval(scope, old);
  if (backend === 'nftables') {
    // Rules in our chains that name this network but that no removal records are foreign: go.
    await removeCommands(scope, (await unrecordedNftRules(scope, [def])).map(deleteByHandle));
  }
};
