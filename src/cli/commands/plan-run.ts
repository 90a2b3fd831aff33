// The work of `vnetfw plan` (loaded when it runs): what `start` would apply on a fresh host,
// private set-up included. Runs nothing and needs no root.
import { stat } from 'node:fs/promises';
import { openStore } from '../../../state/index.js';
import { configuredLayout, loadConfig, resolveBackend } from '../../config/index.js';
import { loadNetworkFile, networkNameProblem, type NetworkDef } from '../../definition/index.js';
import { VnetfwError, UsageError } from '../../errors.js';
import { shellQuoteWord } from '../../exec/index.js';
import {
  BACKENDS, backendFor, composeApply, emptyPrivateState, formatShell, LAYOUTS, runtimeArgv,
  type Backend, type Batch, type ConfigBackend, type FwCommand, type Layout,
} from '../../firewall/index.js';
import type { CliContext } from '../context.js';
import type { Invocation } from '../spec.js';
import type { PLAN_OPTIONS } from './plan.js';

const isFile = async (p: string): Promise<boolean> => {
  try { return (await stat(p)).isFile(); } catch { return false; }
};

// A stored definition comes from the event log (read-only: no lock, works while others write).
const loadStored = async (stateDir: string, name: string): Promise<NetworkDef> => {
  const problem = networkNameProblem(name);
  if (problem !== undefined) throw new UsageError(`plan: network name '${name}' is invalid: ${problem}`);
  let def: NetworkDef | null | undefined;
  try {
    const store = await openStore(stateDir, { readonly: true });
    try { def = store.state().networks[name]?.definition; } finally { await store.close(); }
  } catch (err) {
    if (err instanceof VnetfwError) throw err;
    def = undefined;
  }
  if (def === undefined || def === null) {
    throw new VnetfwError('ENONET', `plan: network '${name}' is not defined in ${stateDir}; give an XML file or run 'vnetfw define FILE'`, { exitCode: 2 });
  }
  return def;
};

export const loadPlanTarget = async (arg: string, stateDir: string): Promise<NetworkDef> =>
  (arg.endsWith('.xml') || (await isFile(arg)) ? loadNetworkFile(arg) : loadStored(stateDir, arg));

export interface Plan { network: string; backend: Backend; setup: FwCommand[]; rules: FwCommand[]; batches: Batch[] }

// On a fresh host: the composition the engine sends (the same function composes both), with the
// tolerated checksum rule riding in the main batch as it first does. Open networks get no rules
// and, as in libvirt, no private set-up either.
export const planFor = (def: NetworkDef, backend: Backend): Plan => {
  const c = composeApply(backend, [def], { existing: emptyPrivateState(), mergeTolerated: true });
  const all = c.batches.flatMap((b) => b.commands);
  const setup = all.filter((cmd) => c.origins.get(cmd)?.network === null);
  // Single commands show the checksum rule as tolerated (each runs on its own).
  const rules = all.filter((cmd) => c.origins.get(cmd)?.network !== null && c.origins.get(cmd) !== undefined)
    .map((cmd) => (c.riding.has(cmd) ? { ...cmd, ignoreErrors: true } : cmd));
  return { network: def.name, backend, setup, rules, batches: c.batches };
};

const HEREDOC = 'VNETFW_EOF';
// A batch as sh input: its argv, its stdin as a here-document; a tolerant batch may fail.
export const batchAsShell = (b: Batch): string =>
  `${b.argv.map(shellQuoteWord).join(' ')} <<'${HEREDOC}'${b.ignoreErrors ? ' || true' : ''}\n${b.stdin}${HEREDOC}\n`;

export const runPlan = async ({ options: flags, args: positionals }: Invocation<typeof PLAN_OPTIONS>, ctx: CliContext): Promise<number> => {
  let backend: Backend;
  const layoutFlag = flags.layout;
  if (typeof layoutFlag === 'string' && !(LAYOUTS as readonly string[]).includes(layoutFlag)) {
    throw new UsageError(`plan: layout '${layoutFlag}' is invalid: must be libvirt or indexed`);
  }
  if (typeof flags.backend === 'string') {
    if (!(BACKENDS as readonly string[]).includes(flags.backend)) throw new UsageError(`plan: backend '${flags.backend}' is invalid: must be iptables or nftables`);
    backend = backendFor(flags.backend as ConfigBackend, (layoutFlag as Layout | undefined) ?? 'libvirt');
  } else {
    const conf = await loadConfig(ctx.configPath, { warn: (l) => { ctx.stderr.write(`vnetfw: warning: ${l}\n`); } });
    backend = backendFor(resolveBackend(conf) as ConfigBackend, (layoutFlag as Layout | undefined) ?? configuredLayout(conf));
  }
  if (backend === 'iptables' && layoutFlag === 'indexed') throw new UsageError("plan: layout 'indexed' needs the nftables backend");
  const def = await loadPlanTarget(positionals[0] ?? '', ctx.stateDir);
  const plan = planFor(def, backend);
  const batches = plan.batches;
  if (ctx.json) {
    const cmd = (phase: string) => (c: FwCommand) => ({ phase, argv: runtimeArgv(c), ignoreErrors: c.ignoreErrors === true });
    ctx.stdout.write(`${JSON.stringify({
      network: plan.network,
      backend,
      commands: [...plan.setup.map(cmd('setup')), ...plan.rules.map(cmd('network'))],
      batches: batches.map((b) => ({ argv: b.argv, stdin: b.stdin, ignoreErrors: b.ignoreErrors })),
    })}\n`);
  } else if (flags.batch === true) {
    ctx.stdout.write(batches.map(batchAsShell).join(''));
  } else {
    ctx.stdout.write([...plan.setup, ...plan.rules].map((c) => `${formatShell(c)}\n`).join(''));
  }
  return 0;
};

