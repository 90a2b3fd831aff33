// The doctor: which traffic of vnetfw's networks other firewalls on the host drop, and what vnetfw
// does about it. Reading the kernel goes through a runner the engine gives (`readHostFirewall`);
// everything else is pure.
export type { Finding } from './analyse.js';
export { analyseNetwork } from './analyse.js';
export type { HostFirewallPolicy } from './actions.js';
export { describeNetwork, describeFinding, findingJson } from './format.js';
export { DoctorError } from './errors.js';
export { readHostFirewall, type QueryResult } from './read.js';
export { NAMED_OWNERS } from './owners.js';
