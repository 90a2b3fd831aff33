export {
  bridgeExistsQuery, bridgeCreateCommands, bridgeDeleteCommands, parseLinkShow, ipv4Broadcast,
} from './bridge.js';
export type { LinkInfo } from './bridge.js';
export {
  bridgeCreateBatch, bridgeDeleteBatch, bridgeGroupDeleteBatch, bridgesAddedBy, freshLinkGroup, parseLinkGroups, failedBatchLine, failedBatchLines, IP_BATCH_ARGV, linkListQuery, parseLinkNames, type BridgeBatch,
} from './bridge-batch.js';
export { HostError } from './errors.js';
export { forwardingSysctls, createSysctl, SysctlError } from './sysctl.js';
export type { Sysctl, SysctlSetting } from './sysctl.js';
export { defaultRouteQuery, parseDefaultRouteDevs } from './routes.js';
