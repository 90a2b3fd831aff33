import { chmod, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';

// A Unix socket in the state directory through which commands reach a running daemon without a
// process start-up: one JSON request line in, one JSON response line out.
export interface DaemonRequest { cmd: 'reconcile' | 'ping' }
export interface DaemonResponse { ok: boolean; result?: unknown; error?: string }

export const socketPath = (stateDir: string): string => join(stateDir, 'daemon.sock');

export const serveSocket = async (stateDir: string, handle: (req: DaemonRequest) => Promise<unknown>): Promise<Server> => {
  const path = socketPath(stateDir);
  await unlink(path).catch(() => undefined);   // a socket left by a daemon that was killed
  const server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      void (async () => {
        let res: DaemonResponse;
        try {
          const req = JSON.parse(line) as DaemonRequest;
          if (req.cmd !== 'reconcile' && req.cmd !== 'ping') throw new Error(`unknown request '${String(req.cmd)}'`);
          res = { ok: true, result: await handle(req) };
        } catch (err) {
          res = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
        conn.end(`${JSON.stringify(res)}\n`);
      })();
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(path, resolve); });
  await chmod(path, 0o600);
  return server;
};

// Resolves with the daemon's answer; rejects with code 'ENODAEMON' when none is listening.
export const requestDaemon = (stateDir: string, req: DaemonRequest, timeoutMs = 10 * 60_000): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const conn = createConnection(socketPath(stateDir));
    let buf = '';
    const timer = setTimeout(() => { conn.destroy(); reject(new Error('daemon did not answer in time')); }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (c: string) => { buf += c; });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        const res = JSON.parse(buf) as DaemonResponse;
        if (res.ok) resolve(res.result); else reject(new Error(res.error ?? 'daemon request failed'));
      } catch (err) { reject(err instanceof Error ? err : new Error(String(err))); }
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`no daemon is listening on ${socketPath(stateDir)}`), { code: 'ENODAEMON', cause: err }));
    });
  });
