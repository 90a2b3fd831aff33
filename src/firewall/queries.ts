// What vnetfw asks the kernel about its own objects, and the few commands it derives from the
// answers. Kept here so that every firewall command, queries included, is built in one place.
import type { IpFamily } from '../definition/types.js';
import type { FwCommand } from './model.js';
import { INDEXED_FAMILY, INDEXED_TABLE } from './rules-indexed.js';
import { NFT_TABLE, nftFamily } from './rules-nftables.js';

// Our nftables table of one family; with handles when rules are to be matched by them.
export const nftListOwnTable = (family: IpFamily, withHandles = false): string[] =>
  ['nft', ...(withHandles ? ['-a'] : []), 'list', 'table', nftFamily(family), NFT_TABLE];

// Did a `nft list table` fail because the table is not there (as opposed to nft failing)? nft
// reports the kernel's ENOENT in its first line.
export const nftTableAbsent = (r: { exitCode: number; stderr: string }): boolean =>
  r.exitCode === 1 && /^Error: No such file or directory\b/.test(r.stderr);

// The iptables view of one family (iptables-save has no way to list only some chains of all tables).
export const iptablesSave = (family: IpFamily): string[] => [family === 'ipv4' ? 'iptables-save' : 'ip6tables-save'];

// The removal of one rule of ours found in the kernel by its handle.
export const nftDeleteByHandle = (family: 'ip' | 'ip6', chain: string, handle: number): FwCommand =>
  ({ program: 'nft', args: ['delete', 'rule', family, NFT_TABLE, chain, 'handle', String(handle)], ignoreErrors: true });

// `iptables -C` for a rule known by its recorded removal (`--delete` becomes `--check`), as argv.
export const iptablesCheckOf = (removal: FwCommand): string[] =>
  [removal.program, '-w', ...removal.args.map((a) => (a === '--delete' ? '--check' : a))];

// The whole ruleset as JSON, every table (ours, iptables-nft's, other programs'): what `doctor` reads.
export const nftListRulesetJson = (): string[] => ['nft', '-j', 'list', 'ruleset'];

// An iptables variant's own view of its tables: `nft` for iptables-nft (whose xt matches nft's
// JSON names but does not show), `legacy` for iptables-legacy's tables, which nft cannot see.
export const iptablesVariantSave = (family: IpFamily, variant: 'nft' | 'legacy'): string[] =>
  [`${family === 'ipv4' ? 'iptables' : 'ip6tables'}-${variant}-save`];

// The indexed layout's table as JSON (chains, rules, map and set elements).
export const nftListIndexedTable = (): string[] => ['nft', '-j', 'list', 'table', INDEXED_FAMILY, INDEXED_TABLE];
