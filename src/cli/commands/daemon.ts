import { loadDaemon } from '../lazy.js';
import { command } from '../spec.js';
import { version } from '../version.js';

export const daemonCommand = command({
  name: 'daemon',
  summary: 'reconcile, then watch config, definitions and the kernel; repair drift',
  options: {
    'check-every': { type: 'string', value: 'SECONDS', description: 'period of the full drift check (default 30)' },
    'no-monitor': { type: 'boolean', description: 'do not watch `nft monitor`; rely on the periodic check' },
    'metrics-textfile': { type: 'string', value: 'DIR', complete: 'dir', description: 'rewrite DIR/vnetfw.prom after every cycle (node_exporter textfile collector)' },
  },
  description: [
    'Reconciles, then serves: reconciles again when network.conf or the definitions change and on',
    'SIGHUP; finds drift (nft monitor, plus a periodic check, default every 30 s) and repairs it.',
    'An invalid network.conf is reported (stderr and the log) while the daemon goes on with the last',
    'valid configuration.',
    'SIGTERM/SIGINT exit cleanly and leave every network up. Other vnetfw commands keep working:',
    'the daemon holds the state lock only while it works.',
    'Metrics (Prometheus text format): `vnetfw metrics`, and with --metrics-textfile DIR the file',
    'DIR/vnetfw.prom, replaced atomically after every cycle. Under systemd (Type=notify) it sends',
    'READY=1 after the first reconcile, WATCHDOG=1 after every cycle and a STATUS= line; its lines',
    'carry syslog priorities when they go to the journal.',
  ].join('\n'),
  run: async ({ options }, ctx) => {
    const every = Number(options['check-every'] ?? '30');
    const stop = new AbortController();
    // Until the observers exist (they format lines for the journal), straight to stderr.
    let note = (line: string): void => { ctx.stderr.write(`vnetfw daemon: ${line}\n`); };
    const quit = (sig: string) => (): void => { note(`${sig}, exiting (networks stay up)`); stop.abort(); };
    // `on`, not `once`: execa's signal-exit re-raises a signal that no other listener handles.
    const onTerm = quit('SIGTERM');
    const onInt = quit('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    const { createObservers, runDaemon } = await loadDaemon();
    const textfileDir = options['metrics-textfile'];
    const obs = await createObservers({
      stateDir: ctx.stateDir, version: version(), stdout: ctx.stdout, stderr: ctx.stderr,
      ...(textfileDir === undefined ? {} : { textfileDir }),
    });
    note = (line) => { obs.note(`vnetfw daemon: ${line}`); };
    note(`state ${ctx.stateDir}, config ${ctx.configPath}`);
    await runDaemon({
      stateDir: ctx.stateDir, configPath: ctx.configPath,
      say: obs.say, warn: obs.warn, error: obs.error, metrics: obs.metrics, inCycle: obs.inCycle,
      onCycle: (o) => { obs.onCycle({ job: o.job, error: o.result.error }); },
      checkEveryMs: obs.checkEveryMs(Number.isFinite(every) && every > 0 ? every * 1000 : 30_000),
      useMonitor: options['no-monitor'] !== true,
      // VNETFW_PROGRAM_HELPER=off: programs started by the daemon itself (a comparison, a fallback).
      programs: process.env.VNETFW_PROGRAM_HELPER === 'off' ? 'direct' : 'helper',
    }, stop.signal);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    return 0;
  },
});
