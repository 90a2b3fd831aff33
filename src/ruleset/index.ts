// One reader of the host's firewall rulesets (`nft -j list ruleset`, iptables-save), pure: tables of
// chains of rules, for `vnetfw doctor` and for the neighbour detection of `start`.
export type { BaseHook, Chain, Cond, Field, Hook, Rule, Source, Table, TableFamily, Value, Verdict } from './model.js';
export { HOOKS } from './model.js';
export { RulesetError } from './errors.js';
export { hasXtExpressions, parseNftRuleset, tablesFromNftJson } from './nft-json.js';
export { tablesFromIptablesSave } from './iptables-save.js';
export { renderNftRule } from './render-nft.js';
