// Guest traffic during the switches: a ping every 10 ms and one long TCP session, both from the
// guest to the wan, so every packet crosses the forward rules and the masquerade being switched.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exited, start } from './proc.js';

// agent.js sits next to this module both in src/ (as .ts, for tsc) and in dist/ (as .js, run).
export const AGENT = fileURLToPath(new URL('./agent.js', import.meta.url));

export const inNs = (ns: string, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

const lines = (child: ChildProcess, onLine: (l: string) => void): void => {
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); }
  });
};

export interface PingStats { sent: number; lost: number }

// `ping -O` prints a line for every reply and for every probe still unanswered when the next one
// goes out, so the highest icmp_seq seen is what was sent so far and the gaps are what was lost.
export class Pinger {
  private readonly child: ChildProcess;
  private readonly replied = new Set<number>();
  private maxSeq = 0;

  constructor(ns: string, target: string) {
    this.child = start(inNs(ns, ['ping', '-n', '-O', '-i', '0.01', '-W', '1', target]));
    lines(this.child, (l) => {
      const m = /icmp_seq=(\d+)/.exec(l);
      if (m === null) return;
      const seq = Number(m[1]);
      this.maxSeq = Math.max(this.maxSeq, seq);
      if (/bytes from/.test(l)) this.replied.add(seq);
    });
  }

  // The last probe may still be in flight when we look: it is not counted as lost.
  stats(): PingStats {
    const settled = Math.max(0, this.maxSeq - 1);
    let lost = 0;
    for (let s = 1; s <= settled; s++) if (!this.replied.has(s)) lost++;
    return { sent: this.maxSeq, lost };
  }

  async stop(): Promise<PingStats> {
    await new Promise((r) => setTimeout(r, 50)); // let the last replies arrive
    this.child.kill('SIGINT');
    await exited(this.child);
    return this.stats();
  }
}

export interface TcpStats { sent: number; echoed: number; broke: string | null }

export class TcpSession {
  private readonly child: ChildProcess;
  private last: TcpStats = { sent: 0, echoed: 0, broke: null };
  private readonly done: Promise<void>;

  constructor(ns: string, host: string, port: number) {
    this.child = start(inNs(ns, [process.execPath, AGENT, 'client', host, String(port)]));
    lines(this.child, (l) => {
      try {
        const o = JSON.parse(l) as Partial<TcpStats>;
        this.last = { sent: o.sent ?? this.last.sent, echoed: o.echoed ?? this.last.echoed, broke: o.broke ?? this.last.broke };
      } catch { /* not ours */ }
    });
    // The agent prints its final line and exits; if it exits without one, the session broke.
    this.done = exited(this.child).then(() => {
      if (this.child.exitCode !== 0 && this.last.broke === null) this.last.broke = `agent exited (${String(this.child.exitCode ?? this.child.signalCode)})`;
    });
  }

  get alive(): boolean { return this.last.broke === null && this.child.exitCode === null; }

  stats(): TcpStats { return { ...this.last }; }

  async stop(): Promise<TcpStats> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.done;
    return this.stats();
  }
}

// The wan's echo server; resolves once it listens, and remembers who connected.
export class EchoServer {
  readonly peers: string[] = [];
  private readonly child: ChildProcess;
  readonly ready: Promise<void>;

  constructor(ns: string, port: number) {
    this.child = start(inNs(ns, [process.execPath, AGENT, 'server', String(port)]));
    this.ready = new Promise((resolve, reject) => {
      lines(this.child, (l) => {
        try {
          const o = JSON.parse(l) as { peer?: string; listening?: number };
          if (o.listening !== undefined) resolve();
          if (o.peer !== undefined) this.peers.push(o.peer);
        } catch { /* not ours */ }
      });
      this.child.once('exit', () => reject(new Error('echo server exited')));
      setTimeout(() => reject(new Error('echo server did not start within 5 s')), 5000).unref();
    });
  }

  async stop(): Promise<void> { this.child.kill('SIGKILL'); await exited(this.child); }
}
