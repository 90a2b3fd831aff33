import type { NetworkDef } from '../definition/types.js';
import { bridgeCreateCommands, bridgeDeleteCommands, bridgeExistsQuery, forwardingSysctls, type Sysctl } from '../host/index.js';
import { ExecError } from '../exec/index.js';
import { runStep, type OpScope } from './steps.js';

// Host plumbing of one network: the bridge (created only when absent, and then remembered as ours)
// and IP forwarding. Every program runs through runStep, so it is in the log before it runs.
export const bridgeExists = async (scope: OpScope, name: string): Promise<boolean> => {
  const res = await runStep(scope, { argv: bridgeExistsQuery(name), purpose: 'query' });
  return res.exitCode === 0;
};

export const createBridge = async (scope: OpScope, def: NetworkDef): Promise<void> => {
  for (const argv of bridgeCreateCommands(def)) {
    const res = await runStep(scope, { argv, purpose: 'host' });
    if (res.exitCode !== 0) throw new ExecError(res);
  }
  scope.journal.note({ type: 'bridge.created', network: def.name, op: scope.op, data: { bridge: def.bridge.name } });
};

export const deleteBridge = async (scope: OpScope, network: string, bridge: string): Promise<void> => {
  for (const argv of bridgeDeleteCommands(bridge)) {
    const res = await runStep(scope, { argv, purpose: 'host' });
    // A bridge someone else already removed is what we wanted anyway.
    if (res.exitCode !== 0 && !/does not exist|Cannot find device/i.test(res.stderr)) throw new ExecError(res);
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
