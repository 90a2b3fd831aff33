export type { HostDropChain, HostFirewallMode, IntegrationStep, Neighbour, NeighbourFacts } from './model.js';
export { noNeighbours } from './model.js';
export { describeHostChain, factsFromRuleset, NFT_NAME, parseZones, ZONE_NAME } from './detect.js';
export {
  dockerSteps, echoedHandle, FIREWALL_CMD, firewalldBindStep, firewalldQueries, hostNftSteps, LIBVIRT_ZONE, markedHandles, NFT_LIST_RULESET,
  VNETFW_ZONE, withHandle, zoneInstallSteps,
} from './steps.js';
export { planIntegration } from './plan.js';
export type { IntegrationPlan, PlanOptions } from './plan.js';
