// Real kernel, the built CLI in a network namespace: an idle `verify` leaves the digest of what
// nft printed, a `verify` that finds drift leaves the output itself; then two networks defined,
// started and one stopped, `log compact` drops everything behind a checkpoint, `log verify` checks
// the result end to end, status is the same (also when replayed from the checkpoint with the
// snapshots removed), and vnetfw goes on appending (start, stop) on the compacted log.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canUseNetns, cliBuilt, inNs, IP, netnsSkipReason, nsDelAll, nsNew, run, vnet } from '../support/index.js';

const skip = !canUseNetns || !cliBuilt;
const why = netnsSkipReason ?? (cliBuilt ? '' : 'dist/ not built: run npm run build');

const xml = (name: string, bridge: string, net: number): string =>
  `<network><name>${name}</name><forward mode='nat'/><bridge name='${bridge}'/><ip address='10.${net}.0.1' netmask='255.255.255.0'/></network>\n`;

type Rec = Record<string, unknown> & { seq: number; type: string; op?: string };

describe.skipIf(skip)(`log compact on a real kernel${skip ? ` (skipped: ${why})` : ''}`, () => {
  const dirs: string[] = [];
  afterEach(async () => { await nsDelAll(); for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  it('query digests, then define/start/stop, compact, verify, same status after replay, and appending goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-compact-kernel-'));
    dirs.push(dir);
    const state = join(dir, 'state');
    writeFileSync(join(dir, 'network.conf'), 'firewall_backend = "nftables"\n');
    writeFileSync(join(dir, 'a.xml'), xml('neta', 'vbra', 71));
    writeFileSync(join(dir, 'b.xml'), xml('netb', 'vbrb', 72));
    const ns = await nsNew('compact');
    const cli = (...args: string[]): ReturnType<typeof vnet> => vnet(ns, state, join(dir, 'network.conf'), args);
    const ok = async (...args: string[]): Promise<string> => {
      const r = await cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const records = async (): Promise<Rec[]> => (await ok('--json', 'log')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Rec);
    // The command.finished records of the last operation made of queries only (verify's check).
    const lastCheck = async (): Promise<Rec[]> => {
      const recs = await records();
      const op = recs.filter((r) => r.type === 'command.intended' && r.purpose === 'query' && r.network === undefined).at(-1)?.op;
      return recs.filter((r) => r.op === op && r.type === 'command.finished');
    };

    await ok('define', join(dir, 'a.xml'), join(dir, 'b.xml'));
    await ok('start', 'neta', 'netb');

    // Idle: the log keeps what nft printed as its sha256 and size. The listing has packet counters
    // (the bridges' own IPv6 chatter moves them): compared from a check during which they held still.
    const list = async (): Promise<string> => (await inNs(ns, ['nft', '-a', 'list', 'table', 'ip', 'libvirt_network'])).stdout;
    let listing = '';
    for (let tries = 0; tries < 20; tries++) {
      const was = await list();
      await ok('verify');
      listing = await list();
      if (listing === was) break;
    }
    const idle = await lastCheck();
    expect(listing).toContain('vbra');
    const v4 = idle.find((r) => (r.argv as string[]).join(' ') === 'nft -a list table ip libvirt_network');
    expect(v4).toMatchObject({ exitCode: 0, stdout: '', truncated: true, stdoutBytes: Buffer.byteLength(listing) });
    expect(v4?.stdoutSha256).toBe(createHash('sha256').update(listing).digest('hex'));

    // Drift: the outputs that show it are kept.
    expect((await inNs(ns, ['nft', 'flush', 'chain', 'ip', 'libvirt_network', 'guest_output'])).code).toBe(0);
    expect((await cli('verify')).code).toBe(3);
    const drifted = await lastCheck();
    expect(drifted.length).toBeGreaterThan(0);
    expect(drifted.every((r) => r.stdoutSha256 === undefined)).toBe(true);
    expect(drifted.some((r) => String(r.stdout).includes('chain guest_output'))).toBe(true);
    await ok('verify', '--repair');
    await ok('stop', 'netb');

    const statusOf = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const n of ['neta', 'netb']) out.push(await ok('--json', 'status', n));
      return out;
    };
    const before = await statusOf();
    const last = (await records()).at(-1)!.seq;

    // A bad target changes nothing.
    const bad = await cli('log', 'compact', '--before', 'last-week');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringContaining("--before 'last-week' is not a seq")]);
    expect((await records()).at(-1)!.seq).toBe(last);

    const r = JSON.parse(await ok('--json', 'log', 'compact', '--before', String(last + 1))) as Record<string, number | boolean>;
    expect(r).toMatchObject({ compacted: true, from: 1, through: last, dropped: last, seq: last + 1 });
    expect(r.bytesAfter).toBeLessThan(r.bytesBefore as number);
    const after = await records();
    expect(after.map((x) => x.type)).toEqual(['log.checkpoint', 'snapshot.written']);
    expect(after[0]).toMatchObject({ seq: last, from: 1, through: last });
    expect(await ok('log', 'verify')).toMatch(new RegExp(`^log verify: 1 records intact, seq ${last + 1}\\.\\.${last + 1} after a checkpoint for the dropped seq 1\\.\\.${last} `));
    expect(await statusOf()).toEqual(before);
    // Replayed from the checkpoint alone.
    rmSync(join(state, 'snapshots'), { recursive: true, force: true });
    expect(await statusOf()).toEqual(before);

    // Appending goes on from the same chain: the stopped network starts, the other stops.
    await ok('start', 'netb');
    await ok('stop', 'neta');
    const table = (await inNs(ns, ['nft', 'list', 'table', 'ip', 'libvirt_network'])).stdout;
    expect(table).toContain('vbrb');
    expect(table).not.toContain('vbra');
    expect(JSON.parse(await ok('--json', 'status', 'netb'))).toMatchObject({ state: 'active', backend: 'nftables' });
    expect(JSON.parse(await ok('--json', 'status', 'neta'))).toMatchObject({ state: 'stopped' });
    const v = JSON.parse(await ok('--json', 'log', 'verify')) as { ok: boolean; seq: number; checkpoint: { through: number } };
    expect(v).toMatchObject({ ok: true, checkpoint: { from: 1, through: last } });
    expect(v.seq).toBeGreaterThan(last + 5);
    expect((await run([IP, '-n', ns, 'link', 'show', 'vbra'])).code).not.toBe(0);
  });
});
