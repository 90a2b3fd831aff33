// Name rules. Names end up in file paths (network names) and in firewall rules and nft scripts
// (interface names), so only plain, unambiguous characters are accepted.
import { DefinitionError } from './errors.js';

export const IFNAME_MAX_BYTES = 15; // IFNAMSIZ - 1

// Returns the reason an interface name is unusable, or undefined when it is fine.
export const interfaceNameProblem = (name: string): string | undefined => {
  if (name === '') return 'must not be empty';
  if (/[\s/;'"]/.test(name)) return "no whitespace, '/', ';' or quotes allowed";
  if (name === '.' || name === '..') return "'.' and '..' are not allowed";
  if (Buffer.byteLength(name, 'utf8') > IFNAME_MAX_BYTES) return `longer than ${IFNAME_MAX_BYTES} bytes`;
  // ':' is refused by the kernel; '\\', '*', '%' and control characters would be read as escapes,
  // wildcards or templates by the tools; a leading '-' or '!' would look like an option or negation.
  if (/[:\\*%\p{Cc}]/u.test(name)) return "no ':', '\\', '*', '%' or control characters allowed";
  if (name.startsWith('-') || name.startsWith('!')) return "must not start with '-' or '!'";
  return undefined;
};

export const checkInterfaceName = (file: string, field: string, name: string, code: string): void => {
  const problem = interfaceNameProblem(name);
  if (problem !== undefined) throw new DefinitionError(code, `${file}: ${field} '${name}' is invalid: ${problem}`);
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
  if (problem !== undefined) throw new DefinitionError('EDEF_NAME', `${file}: network name '${name}' is invalid: ${problem}`);
};
