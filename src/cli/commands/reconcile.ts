import type { ReconcileAnswer } from '../../daemon/index.js';
import type { ReconcileReport } from '../../engine/index.js';
import { loadDaemon, loadEngine, loadState } from '../lazy.js';
import { command } from '../spec.js';

export const reconcileCommand = command({
  name: 'reconcile',
  summary: 'finish or undo interrupted operations, converge on the configured backend, repair drift',
  description: [
    'First undoes, from the event log and the kernel, whatever an interrupted vnetfw left half done',
    '(a crash, kill -9, power loss). Then brings every active network to the configured',
    'firewall_backend (a live switch: make-before-break by default, see switch_strategy in',
    'network.conf) and finishes interrupted starts and stops. Last, compares the kernel with the log',
    'and repairs drift (as verify --repair). Exit 0 once converged.',
  ].join('\n'),
  run: async (_inv, ctx) => {
    const [{ EngineError, reconcile, withEngine }, { requestDaemon }, { checkStateDir }] = await Promise.all([loadEngine(), loadDaemon(), loadState()]);
    // A running daemon does the work (no second writer, no process start-up on its side). Its
    // socket is in the state directory: one someone else could write is not asked anything.
    checkStateDir(ctx.stateDir);
    const viaDaemon = await requestDaemon(ctx.stateDir, { cmd: 'reconcile' }).then((r) => r as ReconcileAnswer, () => null);
    if (viaDaemon !== null && 'error' in viaDaemon) throw new EngineError('EOPFAILED', `reconcile (through the daemon): ${viaDaemon.error}`);
    // The daemon reconciled with its last good configuration; the file at fault is bad input (exit 2).
    const configError = viaDaemon?.configError;
    const report: ReconcileReport = viaDaemon ?? await withEngine({
      stateDir: ctx.stateDir, configPath: ctx.configPath,
      ...(ctx.isTTY && !ctx.json ? { onProgress: (n: string, m: string) => { ctx.stderr.write(`  ${n}: ${m}\n`); } } : {}),
    }, (env) => reconcile(env));
    if (ctx.json) ctx.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      for (const r of report.recovered) ctx.stdout.write(`${r}: recovered an interrupted operation\n`);
      for (const d of report.drift) ctx.stdout.write(`${d.network}: drift on ${d.backend}: ${d.missing.length} missing, ${d.foreign.length} foreign\n`);
      for (const a of report.actions) ctx.stdout.write(`${a.network}: ${a.ok ? a.action : `FAILED: ${a.error ?? ''}`}\n`);
      if (report.recovered.length === 0 && report.actions.length === 0) ctx.stdout.write('converged: nothing to do\n');
    }
    if (configError !== undefined) {
      ctx.stderr.write(`vnetfw: ${configError} (the daemon reconciled with its last good configuration)\n`);
      return 2;
    }
    return report.actions.every((a) => a.ok) ? 0 : 1;
  },
});
