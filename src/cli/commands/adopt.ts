import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, errorMessage, isVnetfwError } from '../../errors.js';
import { loadEngine } from '../lazy.js';
import { command } from '../spec.js';

// Where the privileged libvirt keeps the status file of each running network.
export const LIBVIRT_STATUS_DIR = '/run/libvirt/network';

// Synchronous: this file is part of what every command loads, and node:fs/promises (with the
// stream modules it pulls in) would add to every command's start-up.
const statusFiles = (dir: string): string[] => {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return [];
    throw new UsageError(`${dir}: cannot list the directory (${e.code ?? 'error'})`);
  }
  return names.filter((n) => n.endsWith('.xml')).sort().map((n) => join(dir, n));
};

interface Outcome { file: string; exit: 0 | 1 | 2 | 3; line: string; json: Record<string, unknown> }

// Several files: each is adopted on its own. Exit: 1 if one failed, else 2 if one was refused,
// else 3 if rules are missing, else 0.
const worst = (outcomes: readonly Outcome[]): number => {
  for (const code of [1, 2, 3] as const) if (outcomes.some((o) => o.exit === code)) return code;
  return 0;
};

export const adoptCommand = command({
  name: 'adopt',
  summary: 'take over networks libvirt runs, from their status files, without changing the kernel',
  args: [{ name: 'STATUSFILE', variadic: true, optional: true, complete: 'file' }],
  options: { all: { type: 'boolean', description: `every status file in ${LIBVIRT_STATUS_DIR}` } },
  description: [
    'Reads libvirt\'s status file of a running network (/run/libvirt/network/NAME.xml; --all: every',
    'one there) and records the network as active in vnetfw, changing nothing in the kernel, so that',
    '`vnetfw stop` later removes exactly the rules libvirt added, `reconcile` can switch it live and',
    '`verify` watches it. libvirt 10.4 and newer: the removal list libvirt saved, accepted only if it',
    'holds nothing but removals of libvirt\'s own rules of that network (else exit 2). libvirt 10.3',
    'and older (no list): libvirt\'s iptables rules for the definition, each checked in the kernel;',
    'those present are recorded, the missing ones named (exit 3). Nothing the file says is run.',
    'With --all, networks vnetfw already runs and open networks (no firewall) are skipped.',
    'Stop libvirt from managing the network afterwards (see docs/operations.md): libvirt would',
    'otherwise remove the same rules again. --json: one object per network.',
  ].join('\n'),
  run: async ({ options: flags, args: positionals }, ctx) => {
    if (flags.all === true && positionals.length > 0) throw new UsageError('adopt: give STATUSFILE... or --all, not both');
    if (flags.all !== true && positionals.length === 0) throw new UsageError('adopt: expected STATUSFILE... or --all (see \'vnetfw adopt --help\')');
    const files = flags.all === true ? statusFiles(LIBVIRT_STATUS_DIR) : [...new Set(positionals)];
    const { adoptFromLibvirt, EngineError, findDrift, withEngine } = await loadEngine();
    const { readStatusFile } = await import('../../libvirt/index.js');
    const outcomes: Outcome[] = [];
    await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, async (env) => {
      for (const file of files) {
        try {
          if (flags.all === true) {
            const { def } = await readStatusFile(file);
            const known = env.journal.store.state().networks[def.name];
            const skip = def.forward.mode === 'open' ? 'forward mode open: libvirt adds no firewall to take over'
              : known !== undefined && known.state !== 'stopped' ? `already ${known.state} in vnetfw` : undefined;
            if (skip !== undefined) {
              outcomes.push({ file, exit: 0, line: `${def.name}: skipped (${skip})`, json: { file, name: def.name, skipped: skip } });
              continue;
            }
          }
          const a = await adoptFromLibvirt(env, file);
          // Adopted (recorded whole): a check that fails now does not undo that, and says so.
          const drift = await findDrift(env, [a.def.name], { full: true }).catch((e: unknown) => {
            throw new EngineError('EADOPT_CHECK', `${file}: network '${a.def.name}' adopted, but checking its rules in the kernel failed (run 'vnetfw verify ${a.def.name}'): ${errorMessage(e)}`, 1);
          });
          const rules = a.removal.groups.reduce((n, g) => n + g.commands.length, 0);
          const missing = [...a.missing, ...drift.flatMap((d) => d.missing)];
          const foreign = drift.flatMap((d) => d.foreign);
          const lines = [`${a.def.name}: adopted on ${a.removal.backend} (${rules} rules ${a.source === 'fwRemoval' ? 'libvirt recorded' : 'of libvirt <= 10.3 found in the kernel'}, bridge ${a.def.bridge.name}${a.bridgeExisted ? '' : ' NOT FOUND'})`,
            ...missing.map((m) => `  missing: ${m}`), ...foreign.map((f) => `  foreign: ${f}`)];
          if (missing.length > 0 || foreign.length > 0) lines.push(`  (run 'vnetfw verify --repair' or 'vnetfw reconcile' to put the missing rules in place)`);
          outcomes.push({
            file, exit: missing.length > 0 || foreign.length > 0 ? 3 : 0, line: lines.join('\n'),
            json: { file, name: a.def.name, backend: a.removal.backend, source: a.source, rules, bridge: a.def.bridge.name, bridgeExisted: a.bridgeExisted,
              ...(a.variant === undefined ? {} : { iptables: a.variant }), inSync: missing.length === 0 && foreign.length === 0, missing, foreign, drift },
          });
        } catch (e) {
          if (!isVnetfwError(e) || ctx.debug) throw e;
          const exit = e.exitCode === 2 ? 2 : 1;
          outcomes.push({ file, exit, line: `vnetfw: ${errorMessage(e)}`, json: { file, error: errorMessage(e), exitCode: exit } });
        }
      }
    });
    for (const o of outcomes) {
      if (ctx.json) ctx.stdout.write(`${JSON.stringify(o.json)}\n`);
      else if (o.exit === 1 || o.exit === 2) ctx.stderr.write(`${o.line}\n`);
      else ctx.stdout.write(`${o.line}\n`);
    }
    if (flags.all === true && files.length === 0 && !ctx.json) ctx.stdout.write(`no status files in ${LIBVIRT_STATUS_DIR}\n`);
    return worst(outcomes);
  },
});
