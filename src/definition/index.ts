export type { DhcpHost, DhcpRange, ForwardMode, IpDef, IpFamily, NatDef, NetworkDef } from './types.js';
export { DefinitionError } from './errors.js';
export { parseNetworkXml, loadNetworkFile, readNetworkFile, MAX_DEFINITION_BYTES } from './parse.js';
export { readUntrustedFile } from './read-file.js';
export { interfaceNameProblem, networkNameProblem, IFNAME_MAX_BYTES } from './names.js';
export { familyOf, formatAddress, networkCidr, parseAddress, parseIPv4, parseIPv6 } from './ip.js';
