import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  event, isStateError, listSegments, OUTPUT_LIMIT_BYTES, openStore, segmentPath, type FileIo, type LogRecord,
} from '../../../state/index.js';
import { nodeIo } from '../../../state/file-io.js';
import { defined, filler, startOp, tmpStateDir } from './helpers.js';

const collect = async (it: AsyncIterable<LogRecord>): Promise<LogRecord[]> => {
  const out: LogRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
};

describe('log store', () => {
  it('appends and reads back the same records, chained', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { now: () => new Date('2025-01-02T03:04:05.000Z') });
    const written = await s.append([defined(), ...startOp()]);
    expect(written.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(written[0]!.prev).toBe('0'.repeat(64));
    for (let i = 1; i < written.length; i++) expect(written[i]!.prev).toBe(written[i - 1]!.hash);
    expect(await collect(s.records())).toEqual(written);
    expect(written[4]).toMatchObject({ type: 'command.finished', data: { exitCode: 0 } });
    expect((await collect(s.records({ fromSeq: 6 }))).map((r) => r.seq)).toEqual([6, 7, 8]);
    await s.close();
    const again = await openStore(dir, { readonly: true });
    expect(await collect(again.records())).toEqual(written);
    expect(again.state()).toEqual(s.state());
    expect(again.state().networks.default?.state).toBe('active');
    await again.close();
    // Each line is one JSON object with the contract's fields.
    const lines = readFileSync(segmentPath(dir, 1), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(8);
    const cmd = JSON.parse(lines[4]!) as Record<string, unknown>;
    expect(cmd).toMatchObject({ seq: 5, type: 'command.finished', time: '2025-01-02T03:04:05.000Z', network: 'default', op: 'op-1' });
    // A program-run record carries its argv, exit code and output at the top level.
    expect(cmd).toMatchObject({ argv: (written[3]!.data as { argv: string[] }).argv, exitCode: 0 });
    expect(cmd).not.toHaveProperty('data');
  });

  it('rejects an invalid event naming the field, and writes nothing', async () => {
    const s = await openStore(tmpStateDir());
    await expect(s.append([{ type: 'command.finished', network: 'n', data: { step: 1, exitCode: 'x' } } as never]))
      .rejects.toThrow(/event 0 \(command.finished\) is not valid: data.exitCode: expected an integer, got "x"/);
    await expect(s.append([{ type: 'nope' as never, data: {} }])).rejects.toThrow(/unknown event type "nope"/);
    await expect(s.append([event('operation.failed', { reason: 'x' }, { network: 'n' })])).rejects.toThrow(/op: operation.failed needs the operation/);
    expect(s.state().seq).toBe(0);
    await s.append([defined()]);
    expect(s.state().seq).toBe(1);
    await s.close();
  });

  it('truncates program output to 64 KiB and flags it', async () => {
    const s = await openStore(tmpStateDir());
    const big = 'x'.repeat(OUTPUT_LIMIT_BYTES + 10);
    const [r] = await s.append([event('command.finished', { step: 1, exitCode: 0, stdout: big, stderr: 'e', durationMs: 1 })]);
    expect(r!.data).toMatchObject({ truncated: true, stdoutBytes: OUTPUT_LIMIT_BYTES + 10, stderr: 'e' });
    expect((r!.data as { stdout: string }).stdout).toHaveLength(OUTPUT_LIMIT_BYTES);
    await s.close();
  });

  it('resolves append only after the batch is written and fsynced, with one fsync per batch', async () => {
    const dir = tmpStateDir();
    const calls: string[] = [];
    let onDiskAtSync = '';
    const io: FileIo = {
      async write(fd, buf, pos) { calls.push('write'); await nodeIo.write(fd, buf, pos); },
      async fsync(fd) {
        onDiskAtSync = readFileSync(segmentPath(dir, 1), 'utf8');
        await new Promise((r) => setTimeout(r, 20));
        await nodeIo.fsync(fd);
        calls.push('fsync-done');
      },
    };
    const s = await openStore(dir, { io });
    const p = s.append([defined(), filler(1), filler(2)]).then((recs) => { calls.push('resolved'); return recs; });
    const recs = await p;
    expect(calls).toEqual(['write', 'fsync-done', 'resolved']);
    expect(onDiskAtSync.trimEnd().split('\n').map((l) => (JSON.parse(l) as { hash: string }).hash)).toEqual(recs.map((r) => r.hash));
    await s.close();
  });

  it('a failed fsync rejects the append and leaves no partial batch behind', async () => {
    const dir = tmpStateDir();
    let fail = true;
    const io: FileIo = { write: nodeIo.write, fsync: async (fd) => { if (fail) throw new Error('EIO: disk gone'); await nodeIo.fsync(fd); } };
    const s = await openStore(dir, { io });
    await expect(s.append([defined()])).rejects.toThrow(/could not write the event log.*disk gone/);
    expect(statSync(segmentPath(dir, 1)).size).toBe(0);
    fail = false;
    const [r] = await s.append([defined()]);
    expect(r!.seq).toBe(1);
    await s.close();
  });

  it('serialises concurrent appends', async () => {
    const s = await openStore(tmpStateDir());
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => s.append([filler(i)])));
    expect(all.map((r) => r[0]!.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await s.close();
  });

  it('rotates segments at the size limit and reads across them', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 30; i++) await s.append([filler(i)]);
    const segs = listSegments(dir);
    expect(segs.length).toBeGreaterThan(3);
    for (const n of segs.slice(0, -1)) expect(statSync(segmentPath(dir, n)).size).toBeLessThanOrEqual(1000);
    expect((await collect(s.records())).map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect((await collect(s.records({ fromSeq: 25 }))).map((r) => r.seq)).toEqual([25, 26, 27, 28, 29, 30]);
    await s.close();
    const again = await openStore(dir, { segmentBytes: 1000 });
    expect(again.state().seq).toBe(30);
    const [r] = await again.append([filler(31)]);
    expect(r!.seq).toBe(31);
    await again.close();
  });

  it('creates the directory 0700 and files 0600', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { snapshotEvery: 2 });
    await s.append([defined(), filler(1), filler(2)]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const sub of ['log', 'snapshots']) {
      expect(statSync(join(dir, sub)).mode & 0o777).toBe(0o700);
      for (const f of readdirSync(join(dir, sub))) expect(statSync(join(dir, sub, f)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(dir, 'lock')).mode & 0o777).toBe(0o600);
    await s.close();
  });

  it('follow() emits records appended from now on', async () => {
    const s = await openStore(tmpStateDir());
    await s.append([defined()]);
    const seen: number[] = [];
    const sub = s.follow().subscribe((r) => seen.push(r.seq));
    await s.append([filler(1), filler(2)]);
    sub.unsubscribe();
    expect(seen).toEqual([2, 3]);
    await s.close();
  });

  it('a read-only store follows another process by polling, and refuses to append', async () => {
    const dir = tmpStateDir();
    const w = await openStore(dir);
    await w.append([defined()]);
    const r = await openStore(dir, { readonly: true, pollMs: 10 });
    await expect(r.append([filler(1)])).rejects.toSatisfy((e: unknown) => isStateError(e, 'EREADONLY'));
    const seen: number[] = [];
    const got = new Promise<void>((resolve) => {
      const sub = r.follow().subscribe((rec) => { seen.push(rec.seq); if (rec.seq === 3) { sub.unsubscribe(); resolve(); } });
    });
    await w.append([filler(1)]);
    await w.append([filler(2)]);
    await got;
    expect(seen).toEqual([2, 3]);
    expect(r.state().seq).toBe(3);
    await r.close();
    await w.close();
  });
});
