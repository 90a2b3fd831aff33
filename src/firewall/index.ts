export type { AppliedCommand, Backend, FwCommand, FwGroup, FwRemoval, FwRuleSet, Program } from './model.js';
export { BACKENDS } from './model.js';
export { buildRules, ruleCommands } from './rules.js';
export { buildIptablesRules } from './rules-iptables.js';
export { buildNftablesRules, NFT_TABLE, nftFamily } from './rules-nftables.js';
export {
  emptyFamilyState, emptyPrivateState, parseIptablesListRules, parseIptablesSave, parseNftListTable, privateSetup,
  privateSetupQueries, privateSetupUndo, privateSetupWithQueries,
} from './private-setup.js';
export type { FamilyState, PrivateState } from './private-setup.js';
export { formatLibvirt, formatLibvirtList, formatShell, runtimeArgv } from './format.js';
export { iptablesUndo, nftUndo, removalFromApplied, undoOf } from './undo.js';
export { iptablesRestoreInput, nftScriptLine, NFT_BATCH_ARGV, parseNftEcho, renderBatches } from './batch.js';
export type { Batch } from './batch.js';
export { escapeXml, formatFwRemovalXml, FwRemovalXmlError, fwRemovalFromStatusXml, parseFwRemovalXml } from './fwremoval-xml.js';
export { iptablesCheckOf, iptablesSave, nftDeleteByHandle, nftListOwnTable } from './queries.js';
export { isOwnObjectEvent, NFT_MONITOR_ARGV } from './monitor.js';
// what `doctor` reads of the host firewall (every table, not only ours)
export { iptablesVariantSave, nftListRulesetJson } from './queries.js';
export { checkLibvirtRemoval, nftRemovalTarget, RemovalShapeError, tcChecksumFilter } from './removal-shape.js';
