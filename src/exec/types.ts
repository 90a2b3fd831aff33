// The one interface through which vnetfw runs programs. The real implementation uses execa (never a
// shell); tests use a fake. Recording to the event log happens around it, not inside it.
export interface RunRequest {
  argv: string[];            // argv[0] is the program name, looked up on PATH
  stdin?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  // Variables this one program needs beyond PATH and LC_ALL, named by the caller (e.g.
  // NOTIFY_SOCKET for systemd-notify); nothing else of vnetfw's environment is passed on.
  env?: Record<string, string>;
  // The run changes nothing (a query): were its answer lost, nothing would be unknown but the answer.
  readOnly?: boolean;
}

export interface RunResult {
  argv: string[];
  stdin?: string;
  exitCode: number;          // -1 when the program could not be started or was killed
  stdout: string;
  stderr: string;
  durationMs: number;
  signal?: string;           // set when killed by a signal
  timedOut?: boolean;
  failedToStart?: boolean;   // ENOENT and friends
  canceled?: boolean;        // aborted through RunRequest.signal
}

export interface Runner {
  // Never throws for a non-zero exit: callers decide what a failure means.
  run(req: RunRequest): Promise<RunResult>;
}
