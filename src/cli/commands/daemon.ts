import { loadDaemon } from '../lazy.js';
import { command } from '../spec.js';

export const daemonCommand = command({
  name: 'daemon',
  summary: 'reconcile, then watch config, definitions and the kernel; repair drift',
  options: {
    'check-every': { type: 'string', value: 'SECONDS', description: 'period of the full drift check (default 30)' },
    'no-monitor': { type: 'boolean', description: 'do not watch `nft monitor`; rely on the periodic check' },
  },
  description: [
    'Reconciles, then serves: reconciles again when network.conf or the definitions change and on',
    'SIGHUP; finds drift (nft monitor, plus a periodic check, default every 30 s) and repairs it.',
    'An invalid network.conf is reported (stderr and the log) while the daemon goes on with the last',
    'valid configuration.',
    'SIGTERM/SIGINT exit cleanly and leave every network up. Other vnetfw commands keep working:',
    'the daemon holds the state lock only while it works.',
  ].join('\n'),
  run: async ({ options }, ctx) => {
    const every = Number(options['check-every'] ?? '30');
    const stop = new AbortController();
    const quit = (sig: string) => (): void => { ctx.stderr.write(`vnetfw daemon: ${sig}, exiting (networks stay up)\n`); stop.abort(); };
    // `on`, not `once`: execa's signal-exit re-raises a signal that no other listener handles.
    const onTerm = quit('SIGTERM');
    const onInt = quit('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    ctx.stderr.write(`vnetfw daemon: state ${ctx.stateDir}, config ${ctx.configPath}\n`);
    const { runDaemon } = await loadDaemon();
    await runDaemon({
      stateDir: ctx.stateDir, configPath: ctx.configPath,
      say: (line) => { ctx.stdout.write(`${new Date().toISOString()} ${line}\n`); },
      warn: (line) => { ctx.stderr.write(`vnetfw daemon: ${line}\n`); },
      checkEveryMs: Number.isFinite(every) && every > 0 ? every * 1000 : 30_000,
      useMonitor: options['no-monitor'] !== true,
    }, stop.signal);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    return 0;
  },
});
