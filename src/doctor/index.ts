// The doctor: which traffic of vnetfw's networks other firewalls on the host drop, and what vnetfw
// does about it. Reading the kernel is injected (`readHostFirewall`); everything else is pure.
export type { Finding } from './analyse.js';
export { analyseNetwork, type AnalyseOptions } from './analyse.js';
export type { HostFirewallMode, HostFirewallPolicy } from './actions.js';
export { describeNetwork, describeFinding, findingJson } from './format.js';
export { DoctorError } from './errors.js';
export { tablesFromNftJson } from './nft-json.js';
export { tablesFromIptablesSave } from './iptables-save.js';
export { renderNftRule } from './render-nft.js';
export type { Table } from './model.js';
export { readHostFirewall, type HostView, type RunQuery, type QueryResult } from './read.js';
