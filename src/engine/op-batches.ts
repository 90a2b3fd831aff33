import type { NetworkDef } from '../definition/types.js';
import type { Backend, FwRemoval } from '../firewall/index.js';
import type { NetworkEvent } from '../../machines/index.js';
import type { NetworkStatus } from '../../state/index.js';
import { createBatcher, type Batcher } from './batcher.js';
import type { EngineEnv } from './env.js';
import { applyMany, prepareHosts, removeMany, removeOurBridges, switchMany } from './network-work.js';
import type { OpScope } from './steps.js';

// The batches one operation's machines join: every start's rules, every stop's removals, every
// make-before-break switch, each reaching the kernel as one transaction per program.
export interface OpBatches {
  host: Batcher<NetworkDef, { created: boolean }>;
  start: Batcher<{ def: NetworkDef; backend: Backend }, FwRemoval>;
  stop: Batcher<NetworkStatus, true>;
  unbridge: Batcher<NetworkStatus, true>;
  switch: Batcher<{ st: NetworkStatus; def: NetworkDef; to: Backend }, FwRemoval>;
}

// `acting`: the networks whose event their machine takes, in the order the caller named them.
export const createOpBatches = (env: EngineEnv, scope: OpScope, acting: ReadonlyArray<{ name: string; event: NetworkEvent }>): OpBatches => {
  // A batch holds its networks in the order the caller named them (libvirt's order when each was
  // started in turn), whatever order their machines happened to join in.
  const rank = new Map(acting.map((i, k) => [i.name, k] as const));
  const ordered = <V>(inputs: Map<string, V>): Map<string, V> =>
    new Map([...inputs].sort(([a], [b]) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0)));
  const count = (t: NetworkEvent['type'], pred: (e: NetworkEvent) => boolean = () => true): number => acting.filter((i) => i.event.type === t && pred(i.event)).length;
  const isMbb = (e: NetworkEvent): boolean => e.type === 'SWITCH' && e.strategy !== 'remove-first';
  return {
    // Every starting network's bridge in one `ip -batch -`.
    host: createBatcher(count('START'), async (joined) => prepareHosts(env, scope, [...ordered(joined).values()])),
    start: createBatcher(count('START'), async (joined) => {
      const inputs = ordered(joined);
      const byBackend = new Map<Backend, NetworkDef[]>();
      for (const { def, backend } of inputs.values()) byBackend.set(backend, [...(byBackend.get(backend) ?? []), def]);
      const out = new Map<string, FwRemoval | Error>();
      for (const [b, defs] of byBackend) for (const [n, r] of await applyMany(scope, b, defs)) out.set(n, r);
      return out;
    }),
    stop: createBatcher(count('STOP'), async (joined) => {
      const inputs = ordered(joined);
      await removeMany(scope, [...inputs.values()]);
      await env.journal.flush();
      return new Map([...inputs.keys()].map((n) => [n, true as const]));
    }),
    // Every stopping network's bridge (those vnetfw made) in one `ip -force -batch -`.
    unbridge: createBatcher(count('STOP'), async (joined) => {
      const inputs = [...ordered(joined).values()];
      const out = new Map<string, true | Error>(inputs.map((st) => [st.name, true as const]));
      for (const [n, r] of await removeOurBridges(scope, inputs)) out.set(n, r);
      return out;
    }),
    switch: createBatcher(count('SWITCH', isMbb), async (joined) => {
      const inputs = ordered(joined);
      const to = [...inputs.values()][0]?.to as Backend;
      return switchMany(scope, [...inputs.values()], to);
    }),
  };
};
