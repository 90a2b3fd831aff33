// Real kernel, the built CLI with recording wrappers first on PATH for every program vnetfw may run:
// each call the wrappers saw appears, in order (the two restores side by side in either), in `vnetfw log --json` as a command.intended record
// with the same argv (and stdin for batches) and a command.finished with its exit code; and every
// program that changes something found its intent already in the log when it started.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  casesDir, canUseNetns, cliBuilt, logRecords, makeSandbox, netnsSkipReason, nsDelAll, nsNew, vnetfw, xmlFacts, type Sandbox,
} from '../support/index.js';

const skip = !canUseNetns || !cliBuilt;

// iptables-restore and ip6tables-restore run side by side (an apply's and a removal's): their two
// wrappers start in either order. Within each run of consecutive restores, both lists are put in
// one order (by program name); everything else must match position for position.
const SIDE_BY_SIDE = new Set(['iptables-restore', 'ip6tables-restore']);
const sideBySideOrder = <T>(list: readonly T[], prog: (x: T) => string): T[] => {
  const out: T[] = [];
  let run: T[] = [];
  const flush = (): void => { out.push(...run.sort((a, b) => prog(a).localeCompare(prog(b)))); run = []; };
  for (const x of list) {
    if (SIDE_BY_SIDE.has(prog(x)) && !run.some((r) => prog(r) === prog(x))) { run.push(x); continue; }
    flush();
    if (SIDE_BY_SIDE.has(prog(x))) run.push(x); else out.push(x);
  }
  flush();
  return out;
};
const why = netnsSkipReason ?? (cliBuilt ? '' : 'dist/ not built: run npm run build');

describe.skipIf(skip)(`audit trail vs recording wrappers on a real kernel${skip ? ` (skipped: ${why})` : ''}`, () => {
  let sb: Sandbox | undefined;
  afterEach(async () => { sb?.cleanup(); sb = undefined; await nsDelAll(); });

  for (const backend of ['nftables', 'iptables'] as const) {
    for (const fixture of ['nat-ipv6', 'route-default']) {
      it(`${fixture} (${backend}): define, start, stop: every program run is in the log, intent first`, async () => {
        const s = (sb = makeSandbox('audit'));
        const ns = await nsNew('audit');
        const xml = join(casesDir, `${fixture}.xml`);
        const facts = xmlFacts(readFileSync(xml, 'utf8'));
        if (facts.forwardDev !== undefined) throw new Error('fixture with forward dev not expected here');
        for (const args of [['define', xml], ['start', 'default'], ['stop', 'default']]) {
          const r = await vnetfw(ns, s, args, { backend, shims: true });
          expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        }
        const calls = sideBySideOrder(s.calls(), (c) => c.argv[0] ?? '');
        const log = await logRecords(s.stateDir);
        const intended = sideBySideOrder(log.filter((r) => r.type === 'command.intended'), (r) => (r.data.argv as string[])[0] ?? '');
        const finished = log.filter((r) => r.type === 'command.finished');

        // The wrappers saw real work on the expected programs.
        const progs = new Set(calls.map((c) => c.prog));
        expect(progs.has('ip')).toBe(true);
        expect(progs.has(backend === 'nftables' ? 'nft' : 'iptables-restore')).toBe(true);

        // One-to-one, in order (but for the restores side by side): what ran is what was logged.
        expect(intended.map((r) => r.data.argv)).toEqual(calls.map((c) => c.argv));
        calls.forEach((c, i) => {
          const rec = intended[i]!;
          expect((rec.data.stdin as string | undefined) ?? '', `stdin of ${c.argv.join(' ')}`).toBe(c.stdin);
          if (c.stdin !== '') expect(rec.data.stdin).toBe(c.stdin);
          expect(rec.network).toBe('default');
          expect(typeof rec.op).toBe('string');
          const fin = finished.filter((f) => f.op === rec.op && f.data.step === rec.data.step);
          expect(fin, `command.finished of ${c.argv.join(' ')}`).toHaveLength(1);
          expect(fin[0]!.seq).toBeGreaterThan(rec.seq);
          expect(typeof fin[0]!.data.exitCode).toBe('number');
          // A program that changes something found its intent on disk before it ran.
          if (rec.data.purpose !== 'query') {
            expect(c.intent, `intent of ${c.argv.join(' ')} was durable before it ran`).toBe('present');
            expect(c.intentSeq).toBe(rec.seq);
          }
        });
        // Exit codes recorded are the programs' own: the only non-zero ones are the bridge probe
        // (absent before start) and, on nftables, listing a table that does not exist yet.
        for (const f of finished) {
          if (f.data.exitCode === 0) continue;
          const i = intended.find((r) => r.op === f.op && r.data.step === f.data.step)!;
          expect(i.data.purpose, `non-zero exit of ${(i.data.argv as string[]).join(' ')}`).toBe('query');
        }
        // Nothing ran outside an operation's records, and batches carried their input.
        expect(finished).toHaveLength(intended.length);
        expect(calls.some((c) => c.stdin !== '')).toBe(true);
      });
    }
  }
});
