// Name rules. Names end up in file paths (network names) and in firewall rules and nft scripts
// (interface names), so only plain, unambiguous characters are accepted.
import { DefinitionError } from './errors.js';

export const IFNAME_MAX_BYTES = 15; // IFNAMSIZ - 1

// Interface names (bridge, forward dev) must be valid for both libvirt's schema (deviceName:
// letters, digits, '_', '.', '-', '\\', ':', '/') and the kernel (no '/', ':' or whitespace, at
// most 15 bytes, not '.' or '..'); '\\' is left out too, as the tools read it as an escape. Anything
// else is syntax somewhere: iptables reads a trailing '+' as a wildcard (`-i +` is every
// interface), nft reads braces as a set and '$'/'@' as variables and sets, '*' and '%' are
// wildcards and templates. A leading '-' would look like an option.
const IFNAME_CHARS = /^[A-Za-z0-9_.-]+$/;

// Returns the reason an interface name is unusable, or undefined when it is fine.
export const interfaceNameProblem = (name: string): string | undefined => {
  if (name === '') return 'must not be empty';
  const bad = [...name].find((c) => !IFNAME_CHARS.test(c));
  if (bad !== undefined) {
    const shown = /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(bad) ? `'${bad}'` : `U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    return `${shown} is not allowed: only letters, digits, '_', '.' and '-'`;
  }
  if (name === '.' || name === '..') return "'.' and '..' are not allowed";
  if (Buffer.byteLength(name, 'utf8') > IFNAME_MAX_BYTES) return `longer than ${IFNAME_MAX_BYTES} bytes`;
  if (name.startsWith('-')) return "must not start with '-'";
  return undefined;
};

// Control characters (a decoded &#10; included) are shown escaped: the error stays one line.
export const printableName = (name: string): string =>
  name.replace(/\p{Cc}/gu, (c) => `\\x${(c.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`);

export const checkInterfaceName = (file: string, field: string, name: string, code: string): void => {
  const problem = interfaceNameProblem(name);
  if (problem !== undefined) throw new DefinitionError(code, `${file}: ${field} '${printableName(name)}' is invalid: ${problem}`);
};

// Network names become file names in the state directory.
export const networkNameProblem = (name: string): string | undefined => {
  if (name === '') return 'must not be empty';
  if (name.includes('/')) return "no '/' allowed";
  if (name.includes('..')) return "'..' is not allowed";
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+:-]*$/.test(name)) {
    return "only letters, digits, '_', '.', '+', ':' and '-' allowed, starting with a letter, digit or '_'";
  }
  if (name.length > 128) return 'longer than 128 characters';
  return undefined;
};

export const checkNetworkName = (file: string, name: string): void => {
  const problem = networkNameProblem(name);
  if (problem !== undefined) throw new DefinitionError('EDEF_NAME', `${file}: network name '${printableName(name)}' is invalid: ${problem}`);
};
