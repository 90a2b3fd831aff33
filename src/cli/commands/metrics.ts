import { VnetfwError } from '../../errors.js';
import { loadDaemon } from '../lazy.js';
import { command } from '../spec.js';

export const metricsCommand = command({
  name: 'metrics',
  summary: "print the daemon's metrics (Prometheus text format)",
  description: [
    'Asks the running daemon, through its socket, for its metrics in Prometheus\' text format:',
    'networks by state and backend, operations by kind and outcome with their durations, program',
    'runs and failures by program, drift found and repaired, log records and bytes, seconds since',
    'the last successful check, the doctor\'s findings by owner. Counters count from the daemon\'s',
    'start. Exit 1 when no daemon runs.',
  ].join('\n'),
  run: async (_inv, ctx) => {
    const { requestDaemon } = await loadDaemon();
    const text = await requestDaemon(ctx.stateDir, { cmd: 'metrics' }, 30_000).catch((err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      throw new VnetfwError('ENODAEMON', `metrics: ${why} (the metrics are the daemon's: start 'vnetfw daemon')`);
    });
    if (typeof text !== 'string') throw new VnetfwError('EDAEMON', 'metrics: the daemon answered something that is not the text format');
    ctx.stdout.write(text);
    return 0;
  },
});
