// `vnetfw log compact --before SEQ|TIME` through the command line (no root): the argument, its
// one-line errors (exit 2, nothing changed), --json, and `log verify` / `log` on the result.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runMain } from '../../support/in-process-cli.js';
import { parseBefore } from '../../../src/cli/commands/log-compact.js';
import { openStore, segmentPath } from '../../../state/index.js';
import { defined, startOp, tmpStateDir } from './helpers.js';


const fixture = async (): Promise<string> => {
  const dir = tmpStateDir();
  const s = await openStore(dir);
  await s.append([defined('default'), ...startOp('default')]);
  await s.close();
  return dir;
};

describe('parseBefore', () => {
  it('given a positive integer, a time or an age, when parsed, then it is a seq or a time', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(parseBefore('42', now)).toEqual({ seq: 42 });
    expect(parseBefore('2026-11-30T12:00:00Z', now)).toEqual({ time: Date.parse('2026-11-30T12:00:00Z') });
    expect(parseBefore('2026-11-30', now)).toEqual({ time: Date.parse('2026-11-30') });
    expect(parseBefore('7d', now)).toEqual({ time: now - 7 * 86_400_000 });
    expect(parseBefore('90m', now)).toEqual({ time: now - 90 * 60_000 });
  });

  for (const bad of ['0', '-3', '1.5', 'yesterday', '2026-13-45', '12x', '', '99999999999999999999']) {
    it(`given '${bad}', when parsed, then a usage error names it`, () => {
      expect(() => parseBefore(bad)).toThrow(`log compact: --before '${bad}' is not a seq (a positive integer) or a time`);
    });
  }
});

describe('vnetfw log compact', () => {
  it('given a bad --before, then one line on stderr, exit 2, and the log is unchanged', async () => {
    const dir = await fixture();
    const bytes = readFileSync(segmentPath(dir, 1));
    for (const argv of [['--before', 'soon'], ['--before', '0'], []]) {
      const r = await runMain(['--state-dir', dir, 'log', 'compact', ...argv]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/--before/);
    }
    expect(readFileSync(segmentPath(dir, 1)).equals(bytes)).toBe(true);
  });

  it('given a log, when compacted before a seq past its end with --json, then the result is one JSON object and log verify reports the checkpoint', async () => {
    const dir = await fixture();
    const r = await runMain(['--state-dir', dir, '--json', 'log', 'compact', '--before', '1000']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ compacted: true, from: 1, through: 8, dropped: 8, seq: 9 });
    const v = await runMain(['--state-dir', dir, 'log', 'verify']);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^log verify: 1 records intact, seq 9\.\.9 after a checkpoint for the dropped seq 1\.\.8 \(hash of seq 8: [0-9a-f]{64}\)/);
    const j = await runMain(['--state-dir', dir, '--json', 'log', 'verify']);
    expect(JSON.parse(j.out)).toMatchObject({ ok: true, checkpoint: { from: 1, through: 8 } });
    const shown = await runMain(['--state-dir', dir, 'log']);
    expect(shown.out).toMatch(/\n {6}8 .*log\.checkpoint +checkpoint: seq 1\.\.8 were dropped/);
    const again = await runMain(['--state-dir', dir, 'log', 'compact', '--before', '2020-01-01']);
    expect(again).toMatchObject({ code: 0, err: '' });
    expect(again.out).toMatch(/^log compact: nothing dropped: /);
  });

  it('--help describes the checkpoint and the argument', async () => {
    const r = await runMain(['log', 'compact', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--before SEQ\|TIME/);
    expect(r.out).toMatch(/checkpoint/);
  });
});
