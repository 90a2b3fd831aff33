import type { NetworkDef } from '../definition/types.js';
import { checkIfaceName } from './iface.js';
import type { Backend, FwCommand, FwRuleSet } from './model.js';
import { buildIndexedRules } from './rules-indexed.js';
import { buildIptablesRules } from './rules-iptables.js';
import { buildNftablesRules } from './rules-nftables.js';

// The one entry point from a validated definition to a network's firewall rules.
// A definition is never changed once parsed (a redefinition is a new object), so its rules are
// built once per backend and shared: a daemon switching 40 networks back and forth composes the
// same rule sets every time. What is returned is shared, never to be changed by a caller.
const built = new WeakMap<NetworkDef, Map<Backend, FwRuleSet>>();

export const buildRules = (def: NetworkDef, backend: Backend): FwRuleSet => {
  const known = built.get(def)?.get(backend);
  if (known !== undefined) return known;
  checkIfaceName(def.bridge.name, 'bridge name');
  if (def.forward.dev !== undefined) checkIfaceName(def.forward.dev, 'forward dev');
  const rules = backend === 'iptables' ? buildIptablesRules(def) : backend === 'nftables-indexed' ? buildIndexedRules(def) : buildNftablesRules(def);
  const perBackend = built.get(def) ?? new Map<Backend, FwRuleSet>();
  perBackend.set(backend, rules);
  built.set(def, perBackend);
  return rules;
};

export const ruleCommands = (rules: FwRuleSet): FwCommand[] => rules.groups.flatMap((g) => g.commands);
