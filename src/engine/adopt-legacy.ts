// A network started by libvirt 10.3 or older: its status file holds no removal list, and its rules
// are libvirt's iptables rules for its definition (those versions had no other backend). They are
// derived here from the definition, each is checked against the kernel with vnetfw's own
// `iptables --check`, and exactly the rules present become the network's removal list; missing
// ones are named. Nothing read from the file is run.
import type { NetworkDef } from '../definition/types.js';
import { buildRules, iptablesCheckOf, iptablesUndo, type FwCommand, type FwRemoval } from '../firewall/index.js';
import { EngineError } from './errors.js';
import { runStep, type OpScope } from './steps.js';

export type IptablesVariant = 'nf_tables' | 'legacy' | 'unknown';

export interface LegacyFound { removal: FwRemoval; missing: string[]; variant: IptablesVariant }

const variantOf = async (scope: OpScope): Promise<IptablesVariant> => {
  const res = await runStep(scope, { argv: ['iptables', '-V'], purpose: 'query' });
  if (/\(nf_tables\)/.test(res.stdout)) return 'nf_tables';
  if (/\(legacy\)/.test(res.stdout)) return 'legacy';
  return 'unknown';
};

// The other variant's save program, for telling "rules missing" from "rules in the other variant".
const otherSave: Record<Exclude<IptablesVariant, 'unknown'>, { program: string; name: string }> = {
  nf_tables: { program: 'iptables-legacy-save', name: 'iptables-legacy' },
  legacy: { program: 'iptables-nft-save', name: 'iptables-nft' },
};

const mentionsBridge = (save: string, bridge: string): boolean =>
  save.split('\n').some((l) => /^-A LIBVIRT_\w+ /.test(l) && (l.includes(` -i ${bridge} `) || l.includes(` -o ${bridge} `)));

export const legacyRemoval = async (scope: OpScope, def: NetworkDef, file: string): Promise<LegacyFound> => {
  const groups = buildRules(def, 'iptables').groups.map((g) => ({
    ignoreErrors: true,
    commands: g.commands.map(iptablesUndo).filter((u): u is FwCommand => u !== undefined).map((u) => ({ ...u, ignoreErrors: true })),
  }));
  const variant = await variantOf(scope);
  const present: Array<{ ignoreErrors: boolean; commands: FwCommand[] }> = [];
  const missing: string[] = [];
  let expected = 0;
  // libvirt's legacy removal order: the checksum group first, each group newest rule first.
  for (const g of [...groups].reverse()) {
    const kept: FwCommand[] = [];
    for (const u of [...g.commands].reverse()) {
      expected++;
      const res = await runStep(scope, { argv: iptablesCheckOf(u), purpose: 'query' });
      if (res.exitCode === 0) kept.push(u);
      else missing.push(`${u.program} ${u.args.join(' ').replace('--delete', '--insert')}`);
    }
    if (kept.length > 0) present.push({ ignoreErrors: true, commands: kept });
  }
  if (expected > 0 && missing.length === expected && variant !== 'unknown') {
    const other = otherSave[variant];
    const res = await runStep(scope, { argv: [other.program], purpose: 'query' });
    if (res.exitCode === 0 && mentionsBridge(res.stdout, def.bridge.name)) {
      throw new EngineError('EADOPT_VARIANT', `${file}: network '${def.name}': its rules are in ${other.name}, but 'iptables' on PATH is iptables-${variant === 'nf_tables' ? 'nft' : 'legacy'}: put ${other.name} first on PATH (or select it with update-alternatives) and adopt again`, 1);
    }
  }
  return { removal: { backend: 'iptables', groups: present }, missing, variant };
};
