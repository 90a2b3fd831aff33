// Snapshots are a cache of the log, never trusted over it. The attack: a snapshot edited so that
// a network's removal list is `nft flush ruleset`, its checksum recomputed. Open must not act on it
// (it folds the log instead) and `log verify` must name it.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import {
  canonicalJson, event, listSnapshots, openStore, sha256Hex, verifyLog, type ProjectionState,
} from '../../../state/index.js';
import { snapshotFile } from '../../../state/snapshot.js';
import { defined, removal, tmpStateDir } from './helpers.js';

const FLUSH = { backend: 'nftables', groups: [{ ignoreErrors: false, commands: [{ program: 'nft', args: ['flush', 'ruleset'] }] }] };

// A log with one network whose nftables removal is recorded, and a snapshot of it.
const withSnapshot = async (): Promise<{ dir: string; seq: number; honest: ProjectionState }> => {
  const dir = tmpStateDir();
  const s = await openStore(dir);
  await s.append([defined(), event('removal.recorded', { removal: removal('nftables') }, { network: 'default' })]);
  await s.snapshot();
  const honest = s.state();
  await s.close();
  const seq = listSnapshots(dir)[0] ?? 0;
  return { dir, seq, honest };
};

// Edits the snapshot's state and recomputes its checksum, as someone who read the code would.
const forge = (dir: string, seq: number, edit: (st: ProjectionState) => void): void => {
  const file = snapshotFile(dir, seq);
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { state: ProjectionState };
  edit(snap.state);
  const { check: _old, ...body } = snap;
  writeFileSync(file, JSON.stringify({ ...body, check: sha256Hex(canonicalJson(body)) }));
};

const cli = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''; let err = '';
  const w = (f: (s: string) => void) => ({ write: (s: string) => { f(s); return true; } }) as unknown as NodeJS.WritableStream;
  const code = await main(args, { stdout: w((s) => { out += s; }), stderr: w((s) => { err += s; }) });
  return { code, out, err };
};

describe('snapshots are never trusted over the log', () => {
  it('a snapshot is taken at a snapshot.written record carrying the state digest', async () => {
    const { dir, seq } = await withSnapshot();
    const r = await openStore(dir, { readonly: true, rebuild: true });
    const types: string[] = [];
    for await (const rec of r.records()) types.push(`${rec.seq}:${rec.type}`);
    await r.close();
    expect(types).toEqual(['1:network.defined', '2:removal.recorded', '3:snapshot.written']);
    expect(seq).toBe(3);
    expect(await verifyLog(dir)).toMatchObject({ ok: true, records: 3, snapshots: 1 });
  });

  it('open ignores a forged snapshot (checksum recomputed): the removal comes from the log', async () => {
    const { dir, seq, honest } = await withSnapshot();
    forge(dir, seq, (st) => { (st.networks.default as unknown as { removals: unknown }).removals = { nftables: FLUSH }; });
    for (const readonly of [true, false]) {
      const s = await openStore(dir, { readonly });
      expect(s.state().networks.default?.removals).toEqual({ nftables: removal('nftables') });
      expect(s.state().networks).toEqual(honest.networks);
      await s.close();
    }
  });

  it('log verify checks every snapshot against the log and names the forged one', async () => {
    const { dir, seq } = await withSnapshot();
    forge(dir, seq, (st) => { (st.networks.default as unknown as { removals: unknown }).removals = { nftables: FLUSH }; });
    const file = snapshotFile(dir, seq);
    expect(await verifyLog(dir)).toEqual({
      ok: false, seq, snapshot: file,
      reason: `snapshot ${file} does not match the log at seq ${seq} (networks.default.removals.nftables.groups differs): the log is what counts; remove the file`,
    });
    const r = await cli(['--state-dir', dir, 'log', 'verify']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`log verify: snapshot ${file} does not match the log at seq ${seq} (networks.default.removals.nftables.groups differs): the log is what counts; remove the file\n`);
  });

  it('a writer stops on a damaged log, naming the seq and what to do', async () => {
    const { dir } = await withSnapshot();
    const seg = `${dir}/log/000001.jsonl`;
    const lines = readFileSync(seg, 'utf8').split('\n');
    lines[2] = (lines[2] ?? '').replace('"digest":"', '"digest":"0');
    writeFileSync(seg, lines.join('\n'));
    const err = await openStore(dir).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/^event log is corrupt or was tampered with at record seq 3: .*; nothing was changed: run 'vnetfw log verify' to see the damage, then restore the state directory from a backup$/);
  });
});
