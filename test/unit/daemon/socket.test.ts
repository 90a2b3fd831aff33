// The daemon's socket refuses what could exhaust it or let others in: requests over the size cap,
// clients that connect and send nothing (or half a line), a state directory others can enter. A
// request that takes long to serve is not cut by the idle timer.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requestDaemon, serveSocket, socketPath } from '../../../src/daemon/index.js';

const cleanup: Array<() => void> = [];
afterEach(() => { for (const c of cleanup.splice(0)) c(); });

const privateDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'vnetfw-sock-'));
  chmodSync(dir, 0o700);
  cleanup.push(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
};
const serve = async (dir: string, handle: () => Promise<unknown>, o = {}): Promise<{ server: Server; calls: () => number }> => {
  let n = 0;
  const server = await serveSocket(dir, () => { n++; return handle(); }, o);
  cleanup.push(() => { server.close(); });
  return { server, calls: () => n };
};

// Connects, writes `send`, collects what comes back until the server closes the connection;
// fails if it is still open after `deadlineMs`.
const exchange = (dir: string, send: string | Buffer, deadlineMs = 5000): Promise<string> => new Promise((resolve, reject) => {
  const conn = createConnection(socketPath(dir));
  let got = '';
  const timer = setTimeout(() => { conn.destroy(); reject(new Error(`connection still open after ${deadlineMs} ms`)); }, deadlineMs);
  conn.on('connect', () => { if (send.length > 0) conn.write(send); });
  conn.on('data', (c) => { got += c.toString(); });
  conn.on('error', () => undefined);
  conn.on('close', () => { clearTimeout(timer); resolve(got); });
});

describe('daemon socket', () => {
  it('answers a request line', async () => {
    const dir = privateDir();
    await serve(dir, () => Promise.resolve({ pid: 7 }));
    expect(await requestDaemon(dir, { cmd: 'ping' })).toEqual({ pid: 7 });
    expect(statSync(socketPath(dir)).mode & 0o777).toBe(0o600);
  });

  it('refuses a request over the size cap without reading on, and never handles it', async () => {
    const dir = privateDir();
    const s = await serve(dir, () => Promise.resolve('handled'));
    const got = await exchange(dir, Buffer.alloc(64 * 1024, 'x'));
    expect(JSON.parse(got)).toEqual({ ok: false, error: 'request over 4096 bytes' });
    expect(s.calls()).toBe(0);
    // a long line with its newline is refused the same way
    expect(JSON.parse(await exchange(dir, `${JSON.stringify({ cmd: 'ping', pad: 'y'.repeat(5000) })}\n`))).toEqual({ ok: false, error: 'request over 4096 bytes' });
  });

  it('closes a client that sends nothing, or half a line, once idle', async () => {
    const dir = privateDir();
    const s = await serve(dir, () => Promise.resolve('handled'), { idleTimeoutMs: 200 });
    expect(await exchange(dir, '')).toBe('');
    expect(await exchange(dir, '{"cmd":"pi')).toBe('');
    expect(s.calls()).toBe(0);
  });

  it('does not cut a request that takes longer than the idle timeout to serve', async () => {
    const dir = privateDir();
    await serve(dir, () => new Promise((r) => setTimeout(() => r({ slow: true }), 600)), { idleTimeoutMs: 100 });
    expect(await requestDaemon(dir, { cmd: 'reconcile' })).toEqual({ slow: true });
  });

  it('will not listen in a directory others can enter', async () => {
    const dir = privateDir();
    chmodSync(dir, 0o755);
    await expect(serveSocket(dir, () => Promise.resolve(null))).rejects.toThrow(`${dir}: mode 0755 lets others in: the daemon socket needs 0700`);
  });

  it('a client has its answer when the line is in, though the daemon has not closed the connection yet', async () => {
    const dir = privateDir();
    // A stand-in daemon that answers and then stays busy: it never ends the connection.
    const { createServer } = await import('node:net');
    const held: Array<{ destroy(): void }> = [];
    const server = createServer((conn) => {
      held.push(conn);
      conn.once('data', () => { conn.write(`${JSON.stringify({ ok: true, result: { pid: 1 } })}\n`); });
    });
    await new Promise<void>((r) => { server.listen(socketPath(dir), r); });
    cleanup.push(() => { for (const c of held) c.destroy(); server.close(); });
    await expect(requestDaemon(dir, { cmd: 'ping' }, 5_000)).resolves.toEqual({ pid: 1 });
  });
});
