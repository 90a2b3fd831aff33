// The daemon's program helper (python3, src/exec/helper-runner.ts) killed, on a real kernel. Idle
// (or under a query, which changes nothing): the daemon says so, starts its programs itself from
// then on, and its next switch is right.
// Under a running program (an iptables-restore held by a wrapper until the helper is dead): the
// outcome is unknown, so the daemon exits (1) as a crash there would end it, and the next
// reconcile recovers: libvirt's exact ruleset on the new backend, `verify` in sync, the kernel as
// after the same switch uninterrupted.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canon, casesDir, cliBuilt, netnsSkipReason, nsDelAll, nsNew, reference, vnet, vnetBg, waitFor, writeConf, writeWrappers,
  type Bg, type Reference,
} from '../support/index.js';

const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');
const xml = join(casesDir, 'nat-default.xml');

const helperPid = (d: Bg): number => {
  const m = /programs are started by a helper \(python3, pid (\d+)\)/.exec(d.out());
  if (m === null) throw new Error(`the daemon did not start a helper: ${d.out()} ${d.err()}`);
  return Number(m[1]);
};

describe.skipIf(skip !== undefined)(`the daemon's program helper killed${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  let ref: Reference;
  const dirs: string[] = [];
  const daemons: Bg[] = [];
  const tmp = (tag: string): string => { const d = mkdtempSync(join(tmpdir(), `vnetfw-${tag}-`)); dirs.push(d); return d; };
  beforeAll(async () => { ref = await reference('nat-default'); }, 120_000);
  afterAll(async () => {
    for (const d of daemons) if (d.running()) d.kill('SIGKILL');
    await Promise.all(daemons.map((d) => d.done));
    await nsDelAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const started = async (tag: string): Promise<{ ns: string; dir: string; st: string; conf: string }> => {
    const ns = await nsNew(tag);
    const dir = tmp(tag);
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), 'nftables');
    expect((await vnet(ns, st, conf, ['define', xml])).code).toBe(0);
    expect((await vnet(ns, st, conf, ['start', 'default'])).code).toBe(0);
    return { ns, dir, st, conf };
  };

  it('killed while idle: the daemon goes on, starting programs itself, and switches right', async () => {
    const { ns, st, conf } = await started('helper-idle');
    const d = vnetBg(ns, st, conf, ['daemon']);
    daemons.push(d);
    await waitFor(() => d.out().includes('ready: watching'), 30_000, 'the daemon ready');
    process.kill(helperPid(d), 'SIGKILL');
    await waitFor(() => d.err().includes('programs are started directly from now on'), 10_000, 'the daemon to notice').catch((e: unknown) => { throw new Error(`${String(e)}: ${d.out()} | ${d.err()}`); });
    writeConf(conf, 'iptables');
    const r = await vnet(ns, st, conf, ['reconcile']);
    expect(r.code).toBe(0);
    expect(await canon(ns, 'iptables')).toBe(ref.full.iptables);
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
    expect(d.running()).toBe(true);
  }, 120_000);

  it('killed under a running program: the daemon exits 1, the next reconcile recovers exactly', async () => {
    const { ns, dir, st, conf } = await started('helper-busy');
    // iptables-restore held until the test says go, so the helper dies while it runs.
    const hold = join(dir, 'hold');
    const wrappers = writeWrappers(join(dir, 'wrappers'), ['iptables-restore'], 'hold.env', (_p, real) =>
      `touch "$HOLD/started"\nfor i in $(seq 1 400); do [ -f "$HOLD/go" ] && break; sleep 0.05; done\nexec "${real}" "$@"\n`);
    writeFileSync(join(wrappers, 'hold.env'), `HOLD='${hold}'\n`);
    rmSync(hold, { recursive: true, force: true });
    const d = vnetBg(ns, st, conf, ['daemon'], { wrappers });
    daemons.push(d);
    await waitFor(() => d.out().includes('ready: watching'), 30_000, 'the daemon ready');
    mkdirSync(hold);
    writeConf(conf, 'iptables');
    await waitFor(() => existsSync(join(hold, 'started')), 30_000, 'iptables-restore to start');
    process.kill(helperPid(d), 'SIGKILL');
    writeFileSync(join(hold, 'go'), '');
    const end = await d.done;
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/the program helper \(python3, pid \d+\) ended \(SIGKILL\) while \d program\(s\) changing the kernel ran, whose outcome is unknown: exiting/);

    const r = await vnet(ns, st, conf, ['reconcile']);
    expect(r.code).toBe(0);
    expect(await canon(ns, 'iptables')).toBe(ref.full.iptables);
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
    // Both backends' views as after the same switch that nothing interrupted.
    const control = await started('helper-control');
    writeConf(control.conf, 'iptables');
    expect((await vnet(control.ns, control.st, control.conf, ['reconcile'])).code).toBe(0);
    expect(await canon(ns, 'all')).toBe(await canon(control.ns, 'all'));
  }, 120_000);
});
