import type { NetworkDef } from '../definition/types.js';
import { checkIfaceName } from './iface.js';
import type { Backend, FwCommand, FwRuleSet } from './model.js';
import { buildIndexedRules } from './rules-indexed.js';
import { buildIptablesRules } from './rules-iptables.js';
import { buildNftablesRules } from './rules-nftables.js';

// The one entry point from a validated definition to a network's firewall rules.
export const buildRules = (def: NetworkDef, backend: Backend): FwRuleSet => {
  checkIfaceName(def.bridge.name, 'bridge name');
  if (def.forward.dev !== undefined) checkIfaceName(def.forward.dev, 'forward dev');
  if (backend === 'iptables') return buildIptablesRules(def);
  return backend === 'nftables-indexed' ? buildIndexedRules(def) : buildNftablesRules(def);
};

export const ruleCommands = (rules: FwRuleSet): FwCommand[] => rules.groups.flatMap((g) => g.commands);
