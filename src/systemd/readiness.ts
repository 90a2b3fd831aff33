// What the daemon tells systemd after each cycle: READY=1 once the first reconcile is done (units
// ordered After=vnetfw.service then start with the networks' firewall in place), WATCHDOG=1 after
// every cycle (a loop stuck longer than WatchdogSec= gets the daemon restarted), and a STATUS=
// line for `systemctl status vnetfw`.
import type { Notifier } from './notify.js';

export interface NetworkCounts { total: number; byState: Record<string, number> }

export const statusText = (n: NetworkCounts, at: Date, error?: string): string => {
  const states = Object.entries(n.byState).filter(([, v]) => v > 0).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${v} ${k}`).join(', ');
  const time = at.toISOString().slice(11, 19);
  return `${n.total} network${n.total === 1 ? '' : 's'}${states === '' ? '' : ` (${states})`}; ` +
    (error === undefined ? `last check ${time} UTC` : `check at ${time} UTC failed: ${error}`);
};

export interface Readiness { cycle(outcome: { error?: string | undefined }, counts: NetworkCounts): Promise<void> }

export const createReadiness = (notifier: Notifier, now: () => Date = () => new Date()): Readiness => {
  let ready = false;
  return {
    cycle(outcome, counts) {
      const fields: Record<string, string> = {};
      if (!ready) fields.READY = '1';
      ready = true;
      if (notifier.watchdogMs !== null) fields.WATCHDOG = '1';
      fields.STATUS = statusText(counts, now(), outcome.error);
      return notifier.send(fields);
    },
  };
};
