import { readFile, stat } from 'node:fs/promises';
import { MAX_DEFINITION_BYTES, parseNetworkXml, type NetworkDef } from '../definition/index.js';
import { fwRemovalFromStatusXml, type FwRemoval } from '../firewall/index.js';
import type { EngineEnv } from './env.js';
import { bridgeExists } from './host-driver.js';
import { openOp } from './operations.js';
import { assertBridgeFree, EngineError } from './registry.js';
import { forNetwork } from './steps.js';

export interface Adopted { def: NetworkDef; removal: FwRemoval; bridgeExisted: boolean }

// Takes over a network libvirt is running, without touching the kernel: its definition and its
// saved removal list come from libvirt's status file (/run/libvirt/network/NAME.xml; libvirt >= 10.4 saves its removal list there),
// so afterwards `vnetfw stop` removes exactly the rules libvirt added (nft handles included),
// `reconcile` can switch it live, and `verify` watches it. libvirt must stop managing it first
// (its daemon would otherwise remove the same rules again on the next network-destroy).
export const adoptFromLibvirt = async (env: EngineEnv, file: string): Promise<Adopted> => {
  const size = await stat(file).then((s) => s.size, () => { throw new EngineError('ENOFILE', `${file}: cannot read the file`, 2); });
  if (size > MAX_DEFINITION_BYTES) throw new EngineError('ETOOBIG', `${file}: file is larger than ${MAX_DEFINITION_BYTES} bytes`, 2);
  const text = await readFile(file, 'utf8');
  if (!/<networkstatus[\s>]/.test(text)) throw new EngineError('EADOPT', `${file}: not a libvirt network status file (no <networkstatus>)`, 2);
  const inner = /<network[\s>][\s\S]*?<\/network>/.exec(text)?.[0];
  if (inner === undefined) throw new EngineError('EADOPT', `${file}: <networkstatus> holds no <network> definition`, 2);
  const def = parseNetworkXml(inner, file);
  const removal = fwRemovalFromStatusXml(text, file);
  if (removal === undefined) {
    throw new EngineError('EADOPT', `${file}: no <firewall name='fwRemoval'> (a network started by libvirt 10.3 or older): stop it in libvirt and start it with vnetfw instead`, 2);
  }
  const st = env.journal.store.state().networks[def.name];
  if (st !== undefined && st.state !== 'stopped') throw new EngineError('EACTIVE', `${file}: network '${def.name}' is already ${st.state} in vnetfw`, 2);
  assertBridgeFree(env.journal.store, def, file);
  await env.journal.write({ type: 'network.defined', network: def.name, data: { definition: def, xml: inner } });
  const scope = forNetwork(await openOp(env, [{ network: def.name, kind: 'adopt', extra: { to: removal.backend } }]), def.name);
  const bridgeExisted = await bridgeExists(scope, def.bridge.name);
  // The bridge is libvirt's creation; adopting the network makes it vnetfw's to delete on stop.
  if (bridgeExisted) env.journal.note({ type: 'bridge.created', network: def.name, op: scope.op, data: { bridge: def.bridge.name } });
  env.journal.note({ type: 'removal.recorded', network: def.name, op: scope.op, data: { removal } });
  env.journal.note({ type: 'network.transition', network: def.name, op: scope.op, data: { from: 'stopped', to: 'active', event: 'ADOPT' } });
  await env.journal.write({ type: 'operation.committed', network: def.name, op: scope.op, data: { backend: removal.backend } });
  return { def, removal, bridgeExisted };
};
