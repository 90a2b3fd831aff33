import { MAX_DEFINITION_BYTES, parseNetworkXml, readUntrustedFile, type NetworkDef } from '../definition/index.js';
import { checkLibvirtRemoval, fwRemovalFromStatusXml, nftRemovalTarget, type FwRemoval } from '../firewall/index.js';
import type { EngineEnv } from './env.js';
import { bridgeExists } from './host-driver.js';
import { listNftRules, mentionsNetwork } from './kernel-view.js';
import { openOp } from './operations.js';
import { assertBridgeFree, EngineError } from './registry.js';
import { forNetwork, newOpId, type OpScope } from './steps.js';

export interface Adopted { def: NetworkDef; removal: FwRemoval; bridgeExisted: boolean }

// Takes over a network libvirt is running, without touching the kernel: its definition and its
// saved removal list come from libvirt's status file (/run/libvirt/network/NAME.xml; libvirt >= 10.4 saves its removal list there),
// so afterwards `vnetfw stop` removes exactly the rules libvirt added (nft handles included),
// `reconcile` can switch it live, and `verify` watches it. libvirt must stop managing it first
// (its daemon would otherwise remove the same rules again on the next network-destroy).
// An nft removal deletes by handle: each handle that is in our table must be a rule of this
// network (naming its bridge or a subnet), or stop would delete another network's rule. Read with
// vnetfw's own listing of its table; nothing from the file is run.
const assertHandlesOwned = async (env: EngineEnv, removal: FwRemoval, def: NetworkDef, file: string): Promise<void> => {
  if (removal.backend !== 'nftables') return;
  const scope: OpScope = { op: newOpId(), network: undefined, journal: env.journal, runner: env.runner, counter: { next: 1 } };
  const rules = await listNftRules(scope);
  await env.journal.flush();
  for (const cmd of removal.groups.flatMap((g) => g.commands)) {
    const t = nftRemovalTarget(cmd);
    const rule = rules.find((r) => r.family === t?.family && r.chain === t.chain && r.handle === t.handle);
    if (rule !== undefined && !mentionsNetwork(def, rule.text)) {
      throw new EngineError('EADOPT', `${file}: fwRemoval action '${cmd.args.join(' ')}' refused: handle ${rule.handle} is the rule '${rule.text}', not one of network '${def.name}'`, 2);
    }
  }
};

export const adoptFromLibvirt = async (env: EngineEnv, file: string): Promise<Adopted> => {
  const text = await readUntrustedFile(file, MAX_DEFINITION_BYTES);
  if (!/<networkstatus[\s>]/.test(text)) throw new EngineError('EADOPT', `${file}: not a libvirt network status file (no <networkstatus>)`, 2);
  const inner = /<network[\s>][\s\S]*?<\/network>/.exec(text)?.[0];
  if (inner === undefined) throw new EngineError('EADOPT', `${file}: <networkstatus> holds no <network> definition`, 2);
  const def = parseNetworkXml(inner, file);
  const listed = fwRemovalFromStatusXml(text, file);
  if (listed === undefined) {
    throw new EngineError('EADOPT', `${file}: no <firewall name='fwRemoval'> (a network started by libvirt 10.3 or older): stop it in libvirt and start it with vnetfw instead`, 2);
  }
  // Untrusted input: only removals of libvirt's own rules of this network get any further.
  const removal = checkLibvirtRemoval(listed, def, file);
  await assertHandlesOwned(env, removal, def, file);
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
