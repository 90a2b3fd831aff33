import type { Drift } from '../../engine/index.js';
import { loadEngine } from '../lazy.js';
import type { CliContext } from '../context.js';
import { command } from '../spec.js';

const describe = (d: Drift): string[] => [
  `${d.network} (${d.backend}): ${d.missing.length} missing, ${d.foreign.length} foreign`,
  ...d.missing.map((m) => `  - missing: ${m}`),
  ...d.foreign.map((f) => `  + foreign: ${f}`),
];

const report = (ctx: CliContext, drift: Drift[], repaired: string[]): void => {
  if (ctx.json) { ctx.stdout.write(`${JSON.stringify({ inSync: drift.length === 0, drift, repaired })}\n`); return; }
  if (drift.length === 0) { ctx.stdout.write('in sync: the kernel holds exactly what the log records\n'); return; }
  for (const d of drift) ctx.stdout.write(`${describe(d).join('\n')}\n`);
  for (const r of repaired) ctx.stdout.write(`${r}: repaired\n`);
};

export const verifyCommand = command({
  name: 'verify',
  summary: 'compare the kernel with what is recorded (exit 3 on drift); --repair restores',
  args: [{ name: 'NAME', variadic: true, optional: true, complete: 'network' }],
  options: { repair: { type: 'boolean', description: 'put missing rules back, remove foreign ones from our chains' } },
  description: [
    'Compares the rules in the kernel with the rules the event log records for each active network',
    '(all of them by default): missing rules, and rules in our chains that nobody recorded.',
    'Exit 0 when equal, 3 with the difference when not. --repair puts the rules back (and removes',
    'foreign ones from our nftables chains), logging both the drift and the repair.',
  ].join('\n'),
  run: async ({ options, args: positionals }, ctx) => {
    const { EngineError, findDrift, repairDrift, runNetworkOp, withEngine } = await loadEngine();
    return withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, async (env) => {
      for (const n of positionals) {
        if (env.journal.store.state().networks[n] === undefined) throw new EngineError('ENONET', `network '${n}' is not defined`, 2);
      }
      const drift = await findDrift(env, positionals, { full: true });
      if (options.repair !== true || drift.length === 0) {
        report(ctx, drift, []);
        return drift.length === 0 ? 0 : 3;
      }
      const repaired = await repairDrift(env, drift, (name) => runNetworkOp(env, name, { type: 'REPAIR' }));
      const after = await findDrift(env, positionals, { full: true });
      report(ctx, drift, repaired);
      if (after.length > 0) { ctx.stderr.write('vnetfw: verify: drift remains after repair\n'); return 1; }
      return 0;
    });
  },
});
