// Interface names on their way into a rule. The definition layer already refuses names that are
// syntax for a tool; this is the last check before a name reaches argv or an nft script, whatever
// path the definition took (XML, a replayed log, an adopted status file).
import { interfaceNameProblem, printableName } from '../definition/names.js';
import { VnetfwError } from '../errors.js';

export const checkIfaceName = (name: string, what = 'interface name'): string => {
  const problem = interfaceNameProblem(name);
  if (problem !== undefined) {
    throw new VnetfwError('EFW_IFACE', `${what} '${printableName(name)}' cannot be put in a firewall rule: ${problem}`, { exitCode: 2 });
  }
  return name;
};

// In an nft script an interface name is always a quoted string: never a set ({...}), a variable,
// a keyword or a number (`iif 1` could be read as an interface index).
export const nftIfaceToken = (name: string): string => `"${checkIfaceName(name)}"`;

// The argv keys after which an interface name follows.
export const NFT_IFACE_KEYS: ReadonlySet<string> = new Set(['iif', 'oif', 'iifname', 'oifname']);
export const IPTABLES_IFACE_KEYS: ReadonlySet<string> = new Set(['-i', '-o', '--in-interface', '--out-interface']);
