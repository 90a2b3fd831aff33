import { lstatSync } from 'node:fs';
import { chmod, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { VnetfwError } from '../errors.js';

// A Unix socket in the state directory through which commands reach a running daemon without a
// process start-up: one JSON request line in, one JSON response line out.
//
// Who may connect: connecting to a Unix socket needs write permission on the socket file and
// search permission on its directory. The socket is 0600 and owned by the daemon's user, in a
// state directory owned by that user with no access for group or others (checked before
// listening), so only that user (root, for the service) and root can connect. Node has no
// SO_PEERCRED; the file permissions are the check.
export interface DaemonRequest { cmd: 'reconcile' | 'ping' | 'metrics' }
export interface DaemonResponse { ok: boolean; result?: unknown; error?: string }

export const MAX_REQUEST_BYTES = 4096;
export const IDLE_TIMEOUT_MS = 5000;

export class SocketError extends VnetfwError {
  constructor(code: string, message: string) {
    super(code, message, { exitCode: 2 });
    this.name = 'SocketError';
  }
}

export const socketPath = (stateDir: string): string => join(stateDir, 'daemon.sock');

// The directory must keep everyone but its owner (ourselves) away from the socket.
const checkPrivateDir = (dir: string): void => {
  const st = lstatSync(dir);
  const uid = process.geteuid?.() ?? st.uid;
  if (!st.isDirectory()) throw new SocketError('ESOCKDIR', `${dir}: not a directory (the daemon socket needs a private directory)`);
  if (st.uid !== uid) throw new SocketError('ESOCKDIR', `${dir}: owned by uid ${st.uid}, not ${uid}: the daemon socket would not be private`);
  if ((st.mode & 0o077) !== 0) {
    throw new SocketError('ESOCKDIR', `${dir}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets others in: the daemon socket needs 0700`);
  }
};

export interface ServeOptions { maxRequestBytes?: number; idleTimeoutMs?: number }

export const serveSocket = async (
  stateDir: string, handle: (req: DaemonRequest) => Promise<unknown>, o: ServeOptions = {},
): Promise<Server> => {
  const max = o.maxRequestBytes ?? MAX_REQUEST_BYTES;
  checkPrivateDir(stateDir);
  const path = socketPath(stateDir);
  await unlink(path).catch(() => undefined);   // a socket left by a daemon that was killed
  const server = createServer((conn) => {
    let buf = '';
    let answered = false;
    const answer = (res: DaemonResponse): void => { answered = true; conn.end(`${JSON.stringify(res)}\n`); };
    // A client that sends nothing (or half a line) does not hold a connection open for ever; once
    // its request is in, the timer is off: a reconcile may take a while.
    conn.setTimeout(o.idleTimeoutMs ?? IDLE_TIMEOUT_MS, () => { conn.destroy(); });
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      if (answered) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (Buffer.byteLength(nl < 0 ? buf : buf.slice(0, nl)) > max) {
        answer({ ok: false, error: `request over ${max} bytes` });
        conn.destroySoon();
        return;
      }
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      answered = true;
      conn.setTimeout(0);
      void (async () => {
        let res: DaemonResponse;
        try {
          const req = JSON.parse(line) as DaemonRequest;
          if (req.cmd !== 'reconcile' && req.cmd !== 'ping' && req.cmd !== 'metrics') throw new Error(`unknown request '${String(req.cmd)}'`);
          res = { ok: true, result: await handle(req) };
        } catch (err) {
          res = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
        if (!conn.destroyed) conn.end(`${JSON.stringify(res)}\n`);
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
    let settled = false;
    // The answer is one line: taken as soon as its newline is in (the daemon's end of the
    // connection may follow later, after its housekeeping), or at the end, newline or not.
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        const res = JSON.parse(buf) as DaemonResponse;
        if (res.ok) resolve(res.result); else reject(new Error(res.error ?? 'daemon request failed'));
      } catch (err) { reject(err instanceof Error ? err : new Error(String(err))); }
    };
    conn.on('data', (c: string) => {
      buf += c;
      if (buf.includes('\n')) { settle(); conn.destroy(); }
    });
    conn.on('end', settle);
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(Object.assign(new Error(`no daemon is listening on ${socketPath(stateDir)}`), { code: 'ENODAEMON', cause: err }));
    });
  });
