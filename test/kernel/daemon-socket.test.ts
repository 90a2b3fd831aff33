// Only root reaches the daemon's socket: a process of another user cannot connect to it (the
// socket is 0600 in a 0700 directory, both root's). Needs root to create the socket as root and
// to start a process as another user; no network namespace.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requestDaemon, serveSocket, socketPath } from '../../src/daemon/index.js';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

describe.skipIf(!root)(`daemon socket and other users${root ? '' : ' (skipped: needs root)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnetfw-sockperm-'));
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  it('root is answered; uid 65534 is refused by the kernel (EACCES) and never reaches the daemon', async () => {
    chmodSync(dir, 0o700);
    let handled = 0;
    const server = await serveSocket(dir, () => { handled++; return Promise.resolve({ pid: 1 }); });
    try {
      expect(await requestDaemon(dir, { cmd: 'ping' })).toEqual({ pid: 1 });
      expect(handled).toBe(1);
      const script = `const c = require('node:net').createConnection(${JSON.stringify(socketPath(dir))});
        c.on('connect', () => { console.log('connected'); c.end('{"cmd":"ping"}\\n'); });
        c.on('error', (e) => { console.log(e.code); });`;
      const r = spawnSync(process.execPath, ['-e', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000 });
      expect(r.stdout.trim()).toBe('EACCES');
      // even with the directory open, the socket file itself keeps others out
      chmodSync(dir, 0o711);
      const r2 = spawnSync(process.execPath, ['-e', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000 });
      expect(r2.stdout.trim()).toBe('EACCES');
      expect(handled).toBe(1);
    } finally {
      server.close();
    }
  });
});
