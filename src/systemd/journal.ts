// Lines for the host's journal. systemd connects a service's stdout/stderr to journald and says so
// in JOURNAL_STREAM ("DEV:INODE" of that stream; INVOCATION_ID alone only says we run as a unit,
// whose output may go to a file or a terminal). journald reads a leading `<N>` as the line's
// syslog priority (sd-daemon(3)), so `journalctl -p warning -u vnetfw` shows warnings and errors
// only; it timestamps every line itself.
import { fstatSync } from 'node:fs';

export type Level = 'error' | 'warning' | 'info';

const PRIORITY: Record<Level, number> = { error: 3, warning: 4, info: 6 };

// True when one of the given descriptors (stdout, stderr) is the stream systemd named.
export const toJournal = (env: NodeJS.ProcessEnv, fds: readonly number[] = [1, 2]): boolean => {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (m === null) return false;
  return fds.some((fd) => {
    try {
      const st = fstatSync(fd, { bigint: true });
      return st.dev === BigInt(m[1] ?? '') && st.ino === BigInt(m[2] ?? '');
    } catch { return false; }
  });
};

// One line as the daemon writes it: with a priority prefix for the journal, else with the time.
export const formatLine = (level: Level, line: string, journal: boolean, now: Date = new Date()): string =>
  (journal ? `<${PRIORITY[level]}>${line}` : `${now.toISOString()} ${line}`);
