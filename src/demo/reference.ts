import { join } from 'node:path';
import type { World } from './world.js';

// The reference: a fresh namespace and state dir going through the same history as the host
// (start on nftables, then iptables, nftables, iptables) with nothing interrupted. A switch keeps
// the old backend's private chains, as libvirt does, so this (not a bare start) is what the
// recovered host must equal. Step 1 starts it while the bridge port waits out STP (idle time).
export const uninterruptedReference = async (w: World): Promise<boolean> => {
  const o = { ns: w.t.C, stateDir: join(w.tmp, 'ref-state'), configPath: join(w.tmp, 'ref.conf') };
  w.setBackend('nftables', o.configPath);
  if ((await w.cli(['define', join(w.tmp, 'default.xml')], o)).code !== 0) return false;
  if ((await w.cli(['start', 'default'], o)).code !== 0) return false;
  for (const to of ['iptables', 'nftables', 'iptables'] as const) {
    w.setBackend(to, o.configPath);
    if ((await w.cli(['reconcile'], o)).code !== 0) return false;
  }
  return true;
};
