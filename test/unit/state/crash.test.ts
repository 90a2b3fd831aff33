import { readdirSync, readFileSync, truncateSync, writeFileSync, appendFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isStateError, openStore, quarantineDir, segmentPath, verifyLog, type LogRecord } from '../../../state/index.js';
import { defined, filler, startOp, tmpStateDir } from './helpers.js';

const build = async (dir: string): Promise<LogRecord[]> => {
  const s = await openStore(dir);
  const recs = await s.append([defined(), ...startOp()]);
  await s.close();
  return recs;
};

const lines = (dir: string): string[] => readFileSync(segmentPath(dir, 1), 'utf8').split('\n').slice(0, -1);
const rewrite = (dir: string, ls: string[]): void => writeFileSync(segmentPath(dir, 1), ls.map((l) => `${l}\n`).join(''));

describe('torn tail', () => {
  it('at every byte offset of the last record: open succeeds, the bytes are quarantined, log.repaired is recorded', async () => {
    const dir = tmpStateDir();
    const recs = await build(dir);
    const seg = segmentPath(dir, 1);
    const full = readFileSync(seg);
    const lastStart = full.lastIndexOf(10, full.length - 2) + 1;
    const lastLen = full.length - lastStart;
    for (let k = 1; k < lastLen; k++) {
      writeFileSync(seg, full.subarray(0, lastStart + k));
      const s = await openStore(dir);
      const st = s.state();
      // The torn record is gone; the one before it and everything earlier are intact.
      expect(st.seq).toBe(recs.length);
      const got: LogRecord[] = [];
      for await (const r of s.records()) got.push(r);
      expect(got.slice(0, -1)).toEqual(recs.slice(0, -1));
      const repaired = got.at(-1)!;
      expect(repaired.type).toBe('log.repaired');
      expect(repaired.seq).toBe(recs.length);
      const data = repaired.data as { quarantine: string; bytes: number; reason: string };
      expect(data.bytes).toBe(k);
      expect(readFileSync(data.quarantine)).toEqual(full.subarray(lastStart, lastStart + k));
      expect(data.quarantine.startsWith(quarantineDir(dir))).toBe(true);
      await s.close();
      expect(await verifyLog(dir)).toMatchObject({ ok: true, records: recs.length });
    }
    expect(readdirSync(quarantineDir(dir))).toHaveLength(lastLen - 1);
  });

  it('a complete but unparsable last line is quarantined too', async () => {
    const dir = tmpStateDir();
    const recs = await build(dir);
    appendFileSync(segmentPath(dir, 1), '\0\0\0garbage\n');
    const s = await openStore(dir);
    expect(s.state().seq).toBe(recs.length + 1);
    await s.close();
  });

  it('a read-only open ignores a torn tail and changes nothing', async () => {
    const dir = tmpStateDir();
    const recs = await build(dir);
    appendFileSync(segmentPath(dir, 1), '{"data":');
    const size = statSync(segmentPath(dir, 1)).size;
    const s = await openStore(dir, { readonly: true });
    expect(s.state().seq).toBe(recs.length);
    await s.close();
    expect(statSync(segmentPath(dir, 1)).size).toBe(size);
    expect(await verifyLog(dir)).toMatchObject({ ok: true, torn: { seq: recs.length + 1, bytes: 8 } });
  });
});

describe('tampering', () => {
  const expectTamper = async (dir: string, seq: number, reason: RegExp): Promise<void> => {
    const v = await verifyLog(dir);
    expect(v).toMatchObject({ ok: false, seq });
    if (!v.ok) expect(v.reason).toMatch(reason);
    const err = await openStore(dir).catch((e: unknown) => e);
    expect(isStateError(err, 'ETAMPER')).toBe(true);
    expect((err as Error).message).toContain(`seq ${seq}`);
    expect((err as { exitCode: number }).exitCode).toBe(1);
  };

  it('an intact log verifies', async () => {
    const dir = tmpStateDir();
    const recs = await build(dir);
    expect(await verifyLog(dir)).toEqual({ ok: true, records: recs.length, seq: recs.length, hash: recs.at(-1)!.hash, snapshots: 0 });
  });

  it('a changed record is named by its seq', async () => {
    const dir = tmpStateDir();
    await build(dir);
    const ls = lines(dir);
    const edited = ls[4]!.replace('"exitCode":0', '"exitCode":1');
    expect(edited).not.toBe(ls[4]);
    ls[4] = edited;
    rewrite(dir, ls);
    await expectTamper(dir, 5, /hash does not match/);
  });

  it('a changed record with a recomputed hash is caught by the next record', async () => {
    const dir = tmpStateDir();
    const recs = await build(dir);
    const { sealRecord } = await import('../../../state/record.js');
    const { hash: _h, ...r3 } = recs[2]!;
    const forged = sealRecord({ ...r3, data: { ...(r3.data as object), to: 'evil' } });
    const ls = lines(dir);
    ls[2] = forged.line.trimEnd();
    rewrite(dir, ls);
    await expectTamper(dir, 4, /prev does not match the hash of seq 3/);
  });

  it('a deleted record is named by the missing seq', async () => {
    const dir = tmpStateDir();
    await build(dir);
    const ls = lines(dir);
    ls.splice(4, 1);
    rewrite(dir, ls);
    await expectTamper(dir, 5, /found seq 6 where seq 5 was expected/);
  });

  it('swapped records are named by the first out-of-place seq', async () => {
    const dir = tmpStateDir();
    await build(dir);
    const ls = lines(dir);
    [ls[5], ls[6]] = [ls[6]!, ls[5]!];
    rewrite(dir, ls);
    await expectTamper(dir, 6, /found seq 7 where seq 6 was expected/);
  });

  it('garbage in the middle is tampering, not a torn tail', async () => {
    const dir = tmpStateDir();
    await build(dir);
    const ls = lines(dir);
    ls[2] = ls[2]!.slice(0, 20);
    rewrite(dir, ls);
    await expectTamper(dir, 3, /not valid JSON/);
  });

  it('a changed last record is tampering (it still parses), not a torn tail', async () => {
    const dir = tmpStateDir();
    await build(dir);
    const ls = lines(dir);
    const edited = ls[7]!.replace('"to":"active"', '"to":"stopped"');
    expect(edited).not.toBe(ls[7]);
    ls[7] = edited;
    rewrite(dir, ls);
    await expectTamper(dir, 8, /hash does not match/);
  });

  it('a truncated earlier segment is tampering', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { segmentBytes: 600 });
    for (let i = 0; i < 10; i++) await s.append([filler(i)]);
    await s.close();
    const seg1 = segmentPath(dir, 1);
    truncateSync(seg1, statSync(seg1).size - 5);
    expect((await verifyLog(dir)).ok).toBe(false);
    await expect(openStore(dir)).rejects.toThrow(/not the last/);
  });
});
