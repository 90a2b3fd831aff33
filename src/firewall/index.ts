export type { AppliedCommand, Backend, ConfigBackend, FwCommand, FwGroup, FwRemoval, FwRuleSet, Layout, Program } from './model.js';
export { ALL_BACKENDS, BACKENDS, backendFor, LAYOUTS, layoutOf, programBackend } from './model.js';
export { buildRules, ruleCommands } from './rules.js';
export { buildIptablesRules } from './rules-iptables.js';
export { buildNftablesRules, NFT_TABLE, nftFamily } from './rules-nftables.js';
export {
  emptyFamilyState, emptyPrivateState, parseIptablesListRules, parseIptablesSave, parseNftListTable, privateSetup,
  emptiedSetupTables, privateSetupQueries, privateSetupRepair, privateSetupUndo, privateSetupWithQueries, setupFamilies,
} from './private-setup.js';
export type { FamilyState, PrivateState } from './private-setup.js';
export { formatLibvirt, formatLibvirtList, formatShell, runtimeArgv } from './format.js';
export { iptablesUndo, knownUndo, nftUndo, removalFromApplied, removalOfRules, undoKnownUpFront, undoOf } from './undo.js';
export { iptablesRestoreInput, nftScriptLine, NFT_BATCH_ARGV, NFT_PLAIN_BATCH_ARGV, parseNftEcho, renderBatches, sideBySide } from './batch.js';
export { composeApply } from './compose.js';
export { emptyNftVariantTables, failedLine, restoreFailure, restoreSections } from './restore-outcome.js';
export type { RestoreSection } from './restore-outcome.js';
export type { ApplyComposition, ComposeOptions, Origin } from './compose.js';
export {
  buildIndexedRules, chainPart, INDEXED_FAMILY, INDEXED_MAPS, INDEXED_TABLE, indexedSetup, indexedUndo, isIndexedCommand, natChain, netChain,
} from './rules-indexed.js';
export type { Batch } from './batch.js';
export { escapeXml, formatFwRemovalXml, FwRemovalXmlError, fwRemovalFromStatusXml, parseFwRemovalXml } from './fwremoval-xml.js';
export { iptablesCheckOf, iptablesSave, nftDeleteByHandle, nftListIndexedTable, nftListOwnTable, nftTableAbsent } from './queries.js';
export { isOwnObjectEvent, NFT_MONITOR_ARGV } from './monitor.js';
// what `doctor` reads of the host firewall (every table, not only ours)
export { iptablesVariantSave, nftListRulesetJson } from './queries.js';
export { checkLibvirtRemoval, nftRemovalTarget, RemovalShapeError, tcChecksumFilter } from './removal-shape.js';
export * from './neighbours/index.js';
export { checksumFilterAdd, checksumFilterBridge, hasChecksumFilter, tcFilterShow } from './tc-filter.js';
