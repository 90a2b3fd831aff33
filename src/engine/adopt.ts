// Takes over a network libvirt is running, without changing the kernel. From libvirt's status
// file (/run/libvirt/network/NAME.xml): the definition, and
// - libvirt 10.4 and newer: the removal list libvirt saved (nft rules by handle, iptables rules,
//   the newest libvirt's tc checksum filter), accepted only when made of removals of libvirt's own
//   rules of that network;
// - libvirt 10.3 and older (no list): libvirt's iptables rules derived from the definition, each
//   checked against the kernel; exactly those present are recorded, the others named.
// Afterwards `vnetfw stop` removes exactly those rules, `reconcile` can switch the network live and
// `verify` watches it. libvirt must stop managing it (it would remove the same rules again).
import type { NetworkDef } from '../definition/index.js';
import { checkLibvirtRemoval, nftRemovalTarget, type FwRemoval } from '../firewall/index.js';
import { readStatusFile } from '../libvirt/index.js';
import type { EngineEnv } from './env.js';
import { describeFailure } from '../exec/index.js';
import { bridgeExistsQuery } from '../host/index.js';
import { listNftRules, mentionsNetwork } from './kernel-view.js';
import { legacyRemoval, type IptablesVariant } from './adopt-legacy.js';
import { EngineError } from './errors.js';
import { assertBridgeFree } from './network-lookup.js';
import { newOpId, runStep, type OpScope } from './steps.js';
import { recordTransition } from './transitions.js';

export interface Adopted {
  def: NetworkDef;
  removal: FwRemoval;
  bridgeExisted: boolean;
  source: 'fwRemoval' | 'derived';   // the list libvirt saved, or derived for libvirt <= 10.3
  missing: string[];                 // derived rules not found in the kernel (not recorded)
  variant?: IptablesVariant;
}

const queryScope = (env: EngineEnv): OpScope => ({ op: newOpId(), network: undefined, journal: env.journal, runner: env.runner, counter: { next: 1 } });

// An nft removal deletes by handle: each handle that is in our table must be a rule of this
// network (naming its bridge or a subnet), or stop would delete another network's rule. Read with
// vnetfw's own listing of its table; nothing from the file is run.
const assertHandlesOwned = async (env: EngineEnv, removal: FwRemoval, def: NetworkDef, file: string): Promise<void> => {
  if (removal.backend !== 'nftables') return;
  const rules = await listNftRules(queryScope(env));
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
  const status = await readStatusFile(file);
  const { def } = status;
  const st = env.journal.store.state().networks[def.name];
  if (st !== undefined && st.state !== 'stopped') throw new EngineError('EACTIVE', `${file}: network '${def.name}' is already ${st.state} in vnetfw`, 2);
  assertBridgeFree(env.journal.store, def, file);
  let found: { removal: FwRemoval; missing: string[]; variant?: IptablesVariant };
  if (status.listed !== undefined) {
    // Untrusted input: only removals of libvirt's own rules of this network get any further.
    const removal = checkLibvirtRemoval(status.listed, def, file);
    await assertHandlesOwned(env, removal, def, file);
    found = { removal, missing: [] };
  } else {
    found = await legacyRemoval(queryScope(env), def, file);
    await env.journal.flush();
  }
  const source = status.listed === undefined ? 'derived' : 'fwRemoval';
  const bridgeExisted = await bridgeThere(env, def, file);
  // Everything that can fail has been asked: the adoption is recorded as one append (the
  // definition, the operation, the removal, its end), which is on disk whole or not at all. A
  // failure before it, or of it, leaves the state as it was; the kernel is never touched.
  const op = newOpId();
  const { journal } = env;
  journal.note({ type: 'network.defined', network: def.name, data: { definition: def, xml: status.xml } });
  journal.note({ type: 'operation.started', network: def.name, op, data: { kind: 'adopt', to: found.removal.backend } });
  // The bridge is libvirt's creation; adopting the network makes it vnetfw's to delete on stop.
  if (bridgeExisted) journal.note({ type: 'bridge.created', network: def.name, op, data: { bridge: def.bridge.name } });
  journal.note({ type: 'removal.recorded', network: def.name, op, data: { removal: found.removal } });
  recordTransition(journal, { network: def.name, op, from: 'stopped', to: 'active', event: 'ADOPT' });
  await env.journal.write({ type: 'operation.committed', network: def.name, op, data: { backend: found.removal.backend } });
  return { def, removal: found.removal, bridgeExisted, source, missing: found.missing, ...(found.variant === undefined ? {} : { variant: found.variant }) };
};

// Whether the network's bridge is there. A query that gave no answer (not started, killed, timed
// out) fails the adoption: "not there" would be recorded as a fact.
const bridgeThere = async (env: EngineEnv, def: NetworkDef, file: string): Promise<boolean> => {
  const res = await runStep(queryScope(env), { argv: bridgeExistsQuery(def.bridge.name), purpose: 'query' });
  await env.journal.flush();
  if (res.failedToStart === true || res.canceled === true || res.timedOut === true || res.signal !== undefined) {
    throw new EngineError('EADOPT', `${file}: network '${def.name}': cannot tell whether its bridge '${def.bridge.name}' exists: ${describeFailure(res)}`, 1);
  }
  return res.exitCode === 0;
};
