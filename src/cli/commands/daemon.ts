import { loadDaemon } from '../lazy.js';
import { parseFlags, type Command } from '../context.js';

export const daemonCommand: Command = {
  name: 'daemon',
  summary: 'reconcile, then watch config, definitions and the kernel; repair drift',
  usage: 'daemon [--check-every SECONDS] [--no-monitor]',
  help: [
    'Reconciles, then serves: reconciles again when network.conf or the definitions change and on',
    'SIGHUP; finds drift (nft monitor, plus a periodic check, default every 30 s) and repairs it.',
    'SIGTERM/SIGINT exit cleanly and leave every network up. Other vnetfw commands keep working:',
    'the daemon holds the state lock only while it works.',
  ].join('\n'),
  run: async (args, ctx) => {
    const { flags } = parseFlags(args, { 'check-every': 'string', 'no-monitor': 'boolean' }, 'daemon');
    const every = Number(flags['check-every'] ?? '30');
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
      checkEveryMs: Number.isFinite(every) && every > 0 ? every * 1000 : 30_000,
      useMonitor: flags['no-monitor'] !== true,
    }, stop.signal);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    return 0;
  },
};
