import { execa } from 'execa';
import type { Runner, RunRequest, RunResult } from './types.js';

export interface ExecaRunnerOptions {
  // The children's whole environment (default: childEnv()); PATH lookup happens at run time with it.
  env?: Record<string, string>;
  // Default timeout for a run without its own; the child is killed (SIGTERM, then SIGKILL).
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

// Used when the caller has no PATH at all (the systemd unit sets one).
export const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// What a child gets, as root: PATH (to find the programs) and LC_ALL=C (stable messages), nothing
// else of the caller's environment. XTABLES_LIBDIR, LD_PRELOAD, NFT_* and the like would change
// what iptables or nft load and do. firewall-cmd also gets the caller's DBUS_SYSTEM_BUS_ADDRESS
// when set: it must reach the same system bus as the caller (a private bus, when there is one).
export const childEnv = (from: NodeJS.ProcessEnv = process.env, program?: string): Record<string, string> => {
  const env: Record<string, string> = { PATH: from.PATH !== undefined && from.PATH !== '' ? from.PATH : FALLBACK_PATH, LC_ALL: 'C' };
  const bus = from.DBUS_SYSTEM_BUS_ADDRESS;
  if (program === 'firewall-cmd' && bus !== undefined && bus !== '') env.DBUS_SYSTEM_BUS_ADDRESS = bus;
  return env;
};

// The real Runner: execa 9, never a shell, never rejecting (the RunResult says what happened).
export function createExecaRunner(opts: ExecaRunnerOptions = {}): Runner {
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    async run(req: RunRequest): Promise<RunResult> {
      const [file, ...args] = req.argv;
      if (file === undefined || file === '') throw new TypeError('RunRequest.argv must name a program');
      const started = Date.now();
      const res = await execa(file, args, {
        reject: false,
        shell: false,
        // Keep output byte-exact for the event log and for handle parsing.
        stripFinalNewline: false,
        // Without input, stdin is /dev/null-like: no program should wait on our terminal.
        ...(req.stdin !== undefined ? { input: req.stdin } : { stdin: 'ignore' as const }),
        timeout: req.timeoutMs ?? defaultTimeout,
        ...(req.signal ? { cancelSignal: req.signal } : {}),
        env: { ...(opts.env ?? childEnv(process.env, file)), ...req.env },
        extendEnv: false,
        // Programs like nft do not call setlocale, but iptables' messages may; keep them stable.
        encoding: 'utf8',
        // A program is not killed when vnetfw exits: an iptables-restore or nft batch runs to its
        // end rather than being cut mid-way (its intent is on disk either way, and the next
        // command's recovery reads the kernel). It also spares each run execa's exit hooks (a
        // listener on some 20 signals installed and removed per program: ~15 ms of a switch).
        cleanup: false,
      });
      const failedToStart = res.exitCode === undefined && !res.signal && !res.timedOut && !res.isCanceled;
      const result: RunResult = {
        argv: [...req.argv],
        exitCode: res.exitCode ?? -1,
        stdout: typeof res.stdout === 'string' ? res.stdout : '',
        stderr: typeof res.stderr === 'string' ? res.stderr : spawnMessage(res),
        durationMs: res.durationMs ?? Date.now() - started,
      };
      if (req.stdin !== undefined) result.stdin = req.stdin;
      if (res.signal) result.signal = res.signal;
      if (res.timedOut) result.timedOut = true;
      if (res.isCanceled) result.canceled = true;
      if (failedToStart) {
        result.failedToStart = true;
        // execa leaves stderr empty when spawn fails; put the reason where callers look.
        if (result.stderr === '') result.stderr = spawnMessage(res);
      }
      return result;
    },
  };
}

function spawnMessage(res: { code?: string; originalMessage?: string; shortMessage?: string }): string {
  return res.originalMessage ?? res.shortMessage ?? res.code ?? '';
}
