import { describeFailure } from '../exec/index.js';
import type { RunResult } from '../exec/types.js';
import { checksumFilterAdd, checksumFilterBridge, hasChecksumFilter, tcFilterShow, type Backend } from '../firewall/index.js';
import type { NetworkStatus } from '../../state/index.js';
import { EngineError } from './errors.js';
import { runStep, type OpScope } from './steps.js';

// The newest libvirt's DHCP checksum filter, recorded (as its `tc filter del`) in the removal of an
// nftables network adopted from it, looked for on the network's bridge: one `tc` query per such
// network. A query without an answer is an error, not drift: nothing can be said of the filter.
export interface TcDrift { network: string; backend: Backend; missing: string[]; foreign: string[] }

const present = (res: RunResult, network: string, bridge: string): boolean => {
  if (res.failedToStart === true || res.timedOut === true || res.signal !== undefined) {
    throw new EngineError('ETCQUERY', `network '${network}': cannot read the tc filters of bridge '${bridge}': ${describeFailure(res)}`, 1);
  }
  // Exit non-zero: the bridge is gone, and its filter with it.
  if (res.exitCode !== 0) return false;
  try {
    return hasChecksumFilter(res.stdout);
  } catch (e) {
    throw new EngineError('ETCQUERY', `network '${network}': bridge '${bridge}': ${e instanceof Error ? e.message : String(e)}`, 1);
  }
};

export const tcDrift = async (scope: OpScope, networks: readonly NetworkStatus[]): Promise<TcDrift[]> => {
  const out: TcDrift[] = [];
  for (const n of networks) {
    const cmds = n.removals.nftables?.groups.flatMap((g) => g.commands) ?? [];
    const bridges = cmds.map(checksumFilterBridge).filter((b): b is string => b !== undefined);
    const missing: string[] = [];
    for (const bridge of bridges) {
      const res = await runStep(scope, { argv: tcFilterShow(bridge), purpose: 'query' });
      if (!present(res, n.name, bridge)) missing.push(checksumFilterAdd(bridge));
    }
    if (missing.length > 0) out.push({ network: n.name, backend: 'nftables', missing, foreign: [] });
  }
  return out;
};
