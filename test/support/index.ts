// Plumbing of the real-kernel tests, one module per concern: programs (proc), waiting (wait),
// namespaces (netns), small worlds (topology, dataplane), rulesets and libvirt's reference
// (rulesets), the built CLI (cli), wrapper programs (wrappers, recorder), real neighbours
// (firewalld, libvirtd).
export { bg, IP, limiter, must, run, sleep, which, type Bg, type Res, type RunOptions } from './proc.js';
export { pollUntil, waitFor, waitForValue, type Probe } from './wait.js';
export { casesDir, cliBuilt, cliPath, fixturesDir, oracleDir, repoRoot } from './paths.js';
export {
  addNetworkDevices, canUseNetns, inNs, ipOk, netnsSkipReason, nsAdd, nsDel, nsDelAll, nsNew, shInNs, uniqueTag,
} from './netns.js';
export { topoAttach, topoUp, type Topo } from './topology.js';
export {
  BACKENDS, bridgeOf, canon, dumpAll, isQuery, libvirtCommands, mentions, normalizeDump, other, reference, replay, replayCommands,
  xmlFacts, type Backend, type Reference, type View,
} from './rulesets.js';
export { field, logRecords, opDurations, statusOf, vnet, vnetBg, vnetRO, writeConf, type CliRun, type LogRec } from './cli.js';
export { armCrash, CRASH_PROGRAMS, makeCrashShims, pathWith, PROGRAMS, writeWrappers, type Crash } from './wrappers.js';
export { makeSandbox, statusJson, vnetfw, vnetfwBg, type CliOptions, type Injection, type Sandbox, type ShimCall } from './recorder.js';
export { attachGuest, connect, connectEventually, dataplaneUp, netXml, PORT, PROBE, startServer, type Dataplane, type GuestSpec, type Server } from './dataplane.js';
export {
  firewalldAvailable, firewalldConfig, firewalldDown, firewalldStart, firewalldStop, firewalldUp, fwCmd, type Firewalld, type FirewalldConfig,
} from './firewalld.js';
export { libvirtdSkipReason, startLibvirtd, type Libvirtd } from './libvirtd.js';
