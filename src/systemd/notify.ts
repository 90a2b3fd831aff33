// sd_notify(3) for the daemon: READY=1 after the first reconcile, WATCHDOG=1 after every cycle,
// STATUS= with the networks. Node's dgram has no Unix datagram sockets, so the message is sent by
// systemd's own `systemd-notify` (the unit sets NotifyAccess=all, since the sender is a child of
// the daemon). systemd-notify waits until the manager has read the message (a barrier), so the
// message is not lost when the child exits first. These runs change nothing on the host and are
// not part of the audit trail, like the `nft monitor` the daemon reads.
import type { Runner } from '../exec/index.js';

export interface Notifier {
  readonly enabled: boolean;
  readonly watchdogMs: number | null;     // WatchdogSec= of the unit, when it is meant for us
  send(fields: Record<string, string>): Promise<void>;
}

const NOTIFY_TIMEOUT_MS = 5000;

export const createNotifier = (
  env: NodeJS.ProcessEnv, runner: Runner, onError: (message: string) => void, pid: number = process.pid,
): Notifier => {
  const enabled = (env.NOTIFY_SOCKET ?? '') !== '';
  const usec = Number(env.WATCHDOG_USEC ?? '');
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  const watchdogMs = enabled && forUs && Number.isInteger(usec) && usec > 0 ? usec / 1000 : null;
  let chain: Promise<void> = Promise.resolve();
  let reported = false;
  return {
    enabled,
    watchdogMs,
    send(fields) {
      if (!enabled) return Promise.resolve();
      // One line per field; a newline inside a value would start another field.
      const argv = ['systemd-notify', ...Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`)];
      chain = chain.then(async () => {
        // Children get only PATH and LC_ALL: systemd-notify needs the socket named.
        const r = await runner.run({ argv, timeoutMs: NOTIFY_TIMEOUT_MS, env: { NOTIFY_SOCKET: env.NOTIFY_SOCKET ?? '' } });
        if (r.exitCode !== 0 && !reported) {
          reported = true;   // once: a unit without NotifyAccess=all would repeat it every cycle
          onError(`systemd-notify failed (exit ${r.exitCode}): ${(r.stderr.trim() || r.signal) ?? ''}`);
        }
      });
      return chain;
    },
  };
};
