import { randomInt } from 'node:crypto';
import type { NetworkDef } from '../definition/types.js';
import {
  bridgeCreateBatch, bridgeDeleteBatch, bridgeDeleteCommands, bridgeExistsQuery, bridgeGroupDeleteBatch, failedBatchLine, failedBatchLines, forwardingSysctls,
  freshLinkGroup, HostError, linkListQuery, parseLinkGroups, parseLinkNames, type Sysctl,
} from '../host/index.js';
import { ExecError } from '../exec/index.js';
import { runStep, type OpScope } from './steps.js';

// Host plumbing of one network: the bridge (created only when absent, and then remembered as ours)
// and IP forwarding. Every program runs through runStep, so it is in the log before it runs.
export const bridgeExists = async (scope: OpScope, name: string): Promise<boolean> => {
  const res = await runStep(scope, { argv: bridgeExistsQuery(name), purpose: 'query' });
  return res.exitCode === 0;
};

// The bridges of many networks: one read of the links, then one `ip -batch -` making every missing
// bridge (addresses, up). Per network: whether this made its bridge, or why it failed. ip stops at
// the first line that fails and names it: the networks before it are done, the failing one's
// partial bridge is deleted (only when its own `link add` succeeded: a bridge someone else made is
// not ours), and the ones after it go in a new batch. A batch that ends without naming a line
// (killed, timed out) fails all of its networks, and their bridges that now exist are deleted, as
// crash recovery would.
export const createBridges = async (scope: OpScope, defs: readonly NetworkDef[]): Promise<Map<string, { created: boolean } | Error>> => {
  const out = new Map<string, { created: boolean } | Error>();
  if (defs.length === 0) return out;
  const of = (ds: readonly NetworkDef[]): OpScope => (ds.length === 1 ? { ...scope, network: ds[0]?.name } : { ...scope, network: undefined, networks: ds.map((d) => d.name) });
  const q = await runStep(of(defs), { argv: linkListQuery(), purpose: 'query' });
  const present = q.exitCode === 0 ? parseLinkNames(q.stdout) : null;
  if (present === null) {
    const err = q.exitCode === 0 ? new HostError('ELINKS', `${linkListQuery().join(' ')}: output is not a JSON list of links`) : new ExecError(q);
    for (const d of defs) out.set(d.name, err);
    return out;
  }
  for (const d of defs) if (present.has(d.bridge.name)) out.set(d.name, { created: false });
  let todo = defs.filter((d) => !present.has(d.bridge.name));
  while (todo.length > 0) {
    const batch = bridgeCreateBatch(todo);
    const res = await runStep(of(todo), { argv: batch.argv, stdin: batch.stdin, purpose: 'host', timeoutMs: batchTimeout(todo.length) });
    if (res.exitCode === 0) {
      for (const d of todo) made(scope, d, out);
      return out;
    }
    const line = failedBatchLine(res.stderr);
    const k = line === undefined ? -1 : batch.lines.findIndex((l) => line <= l.last);
    if (line === undefined || k < 0) {
      const err = new ExecError(res);
      for (const d of todo) {
        if (await bridgeExists(forNet(scope, d.name), d.bridge.name)) await deleteBridge(forNet(scope, d.name), d.name, d.bridge.name).catch(() => undefined);
        out.set(d.name, err);
      }
      return out;
    }
    for (const d of todo.slice(0, k)) made(scope, d, out);
    const failed = todo[k] as NetworkDef;
    if ((batch.lines[k]?.first ?? line) < line) await deleteBridge(forNet(scope, failed.name), failed.name, failed.bridge.name).catch(() => undefined);
    out.set(failed.name, new ExecError(res));
    todo = todo.slice(k + 1);
  }
  return out;
};

const forNet = (scope: OpScope, network: string): OpScope => ({ ...scope, network });

const made = (scope: OpScope, def: NetworkDef, out: Map<string, { created: boolean } | Error>): void => {
  scope.journal.note({ type: 'bridge.created', network: def.name, op: scope.op, data: { bridge: def.bridge.name } });
  out.set(def.name, { created: true });
};

// A batch does the work of many single runs: the kernel takes ~50 ms to unregister each bridge
// (an RCU grace period per device), so 1000 of them take about a minute. Its time limit grows with
// it: a minute, plus half a second per bridge.
const batchTimeout = (bridges: number): number => 60_000 + 500 * bridges;

// A bridge someone else already removed is what we wanted anyway.
const GONE = /does not exist|Cannot find device/i;

// The bridges of many stopping networks in one `ip -force -batch -`; per network, true or why its
// bridge could not be deleted. A run that names no failed line but did not succeed (killed, timed
// out) fails every network of it. Two or more go in one link group that the kernel deletes in one
// operation (bridgeGroupDeleteBatch): a group no link is in, read first; should that read fail,
// each bridge is deleted on its own line.
export const deleteBridges = async (scope: OpScope, items: ReadonlyArray<{ network: string; bridge: string }>): Promise<Map<string, true | Error>> => {
  const out = new Map<string, true | Error>();
  if (items.length === 0) return out;
  const of: OpScope = items.length === 1 ? { ...scope, network: items[0]?.network } : { ...scope, network: undefined, networks: items.map((i) => i.network) };
  let used: Set<string> | null = null;
  if (items.length > 1) {
    const q = await runStep(of, { argv: linkListQuery(), purpose: 'query' });
    used = q.exitCode === 0 ? parseLinkGroups(q.stdout) : null;
  }
  const grouped = used === null ? null : bridgeGroupDeleteBatch(items, freshLinkGroup(used, () => randomInt(2 ** 30, 2 ** 31)));
  const batch = grouped ?? bridgeDeleteBatch(items);
  const res = await runStep(of, { argv: batch.argv, stdin: batch.stdin, purpose: 'host', timeoutMs: batchTimeout(items.length) });
  const failed = failedBatchLines(res.stderr);
  const unknown = res.exitCode !== 0 && failed.size === 0;
  // The group's deletion: "No such device" when no link was left in it (every bridge was gone).
  const groupFailed = grouped === null ? undefined : failed.get(grouped.groupLine);
  const groupError = groupFailed === undefined || /No such device/i.test(groupFailed) ? undefined : groupFailed;
  for (const [k, { network, bridge }] of items.entries()) {
    const own = batch.lines[k];
    const ownFailed = [...failed].filter(([n]) => own !== undefined && n >= own.first && n <= own.last).map(([, w]) => w);
    const why = ownFailed.filter((w) => !GONE.test(w));
    // A bridge whose own lines went through was in the group: its deletion is the group's.
    if (groupError !== undefined && ownFailed.length === 0) why.push(groupError);
    if (unknown || why.length > 0) {
      out.set(network, new HostError('EBRIDGE', `could not delete bridge ${bridge}: ${why.join('; ') || res.stderr.trim() || `exit ${res.exitCode}`}`));
      continue;
    }
    scope.journal.note({ type: 'bridge.deleted', network, op: scope.op, data: { bridge } });
    out.set(network, true);
  }
  return out;
};

export const deleteBridge = async (scope: OpScope, network: string, bridge: string): Promise<void> => {
  for (const argv of bridgeDeleteCommands(bridge)) {
    const res = await runStep(scope, { argv, purpose: 'host' });
    if (res.exitCode !== 0 && !GONE.test(res.stderr)) throw new ExecError(res);
  }
  scope.journal.note({ type: 'bridge.deleted', network, op: scope.op, data: { bridge } });
};

export const enableForwarding = async (scope: OpScope, def: NetworkDef, sysctl: Sysctl): Promise<void> => {
  for (const { key, value } of forwardingSysctls(def)) {
    const previous = await sysctl.write(key, value);
    if (previous !== undefined && previous !== value) {
      scope.journal.note({ type: 'host.sysctl', network: def.name, op: scope.op, data: { key: key.replace(/\//g, '.'), value, previous } });
    }
  }
};
