// Steps 4 and 5: vnetfw SIGKILLed in the middle of a switch, `reconcile` recovering it to the
// exact ruleset a clean start produces; then the audit trail of everything and its hash chain.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCrashShims } from './crash.js';
import { uninterruptedReference } from './reference.js';
import { canonicalRuleset, rulesetDiff } from './ruleset.js';
import type { StepOutcome } from './steps-network.js';
import { WAN_IP } from './topology.js';
import { Pinger } from './traffic.js';
import type { World } from './world.js';

// The first iptables-restore of a switch to iptables: the new rules are in the kernel but vnetfw
// dies before it records the result, with the old nftables rules still in place.
export const CRASH_PROGRAM = 'iptables-restore';

export const crashAndRecover = async (w: World): Promise<StepOutcome> => {
  const shimDir = join(w.tmp, 'shims');
  mkdirSync(shimDir);
  const { env, callLog } = await makeCrashShims(shimDir, CRASH_PROGRAM);
  const pinger = new Pinger(w.t.G, WAN_IP);
  w.setBackend('iptables');
  const crashed = await w.cli(['reconcile'], { env });
  const calls = readFileSync(callLog, 'utf8').trim().split('\n');
  const last = calls.at(-1)?.split(' ').slice(1, 4).join(' ') ?? null;
  // `ip netns exec` may fork and report the kill as exit 128+9.
  const killed = crashed.signal === 'SIGKILL' || crashed.code === 137;
  w.m.crash.killedAtCall = calls.length;
  w.m.crash.killedAfter = last;
  w.m.crash.killed = killed;
  w.say.info(`$ vnetfw reconcile (switch to iptables) → ${killed ? `killed with SIGKILL right after program run ${calls.length} (${last ?? '?'}) returned` : `not killed (exit ${String(crashed.code)})`}`);
  const mid = JSON.parse((await w.cli(['status', 'default', '--json'])).stdout || '{}') as { state?: string; inFlight?: unknown };
  w.say.info(`left behind: state '${mid.state ?? '?'}', an operation in flight: ${mid.inFlight === null || mid.inFlight === undefined ? 'no' : 'yes'}`);

  const rec = await w.cli(['reconcile']);
  w.say.info(`$ vnetfw reconcile → ${rec.stdout.trim().split('\n').join('; ')} (${rec.ms} ms, exit ${String(rec.code)})`);
  const p = await pinger.stop();
  w.m.crash.pingsSent = p.sent;
  w.m.crash.pingsLost = p.lost;
  w.say.info(`guest pings meanwhile: ${p.sent} sent, ${p.lost} lost`);

  const refOk = await (w.reference ?? uninterruptedReference(w));
  const verify = await w.cli(['verify', 'default']);
  w.say.info(`$ vnetfw verify default → ${(verify.stdout || verify.stderr).trim().split('\n')[0] ?? ''} (exit ${String(verify.code)})`);
  const want = await canonicalRuleset(w.t.C);
  const got = await canonicalRuleset(w.t.H);
  const same = refOk && want === got;
  const lines = got.split('\n').filter((l) => !l.startsWith('=') && !/^ip6? /.test(l) && !l.startsWith(':')).length;
  w.say.info(same ? `canonical ruleset (nft libvirt_network tables + iptables-save + ip6tables-save, ${lines} rules) is identical to the one an uninterrupted vnetfw leaves after the same switches`
    : `ruleset differs from the uninterrupted reference's:\n     ${rulesetDiff(want, got).slice(0, 12).join('\n     ')}`);
  w.m.crash.recovered = rec.code === 0;
  w.m.crash.rulesetMatches = same;
  w.m.crash.verifyOk = verify.code === 0;
  const ok = killed && rec.code === 0 && verify.code === 0 && same && p.lost === 0;
  return { ok, detail: ok ? 'killed mid-switch, recovered to exactly the uninterrupted ruleset, verify clean, no ping lost' : 'the crash was not recovered exactly' };
};

export const auditTrail = async (w: World): Promise<StepOutcome> => {
  const all = await w.cli(['log', '--json']);
  const records = all.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type?: string });
  const runs = records.filter((r) => r.type === 'command.intended').length;
  // The story of the crash and its recovery, without the program runs in between.
  const table = (await w.cli(['log', '--network', 'default', '--type', 'operation,network,removal'])).stdout.trimEnd().split('\n');
  w.say.info('$ vnetfw log --network default --type operation,network,removal | tail -8');
  for (const l of table.slice(-8)) w.say.info(`  ${l}`);
  const v = await w.cli(['log', 'verify']);
  w.say.info(`$ vnetfw log verify → ${(v.stdout || v.stderr).trim()} (exit ${String(v.code)})`);
  w.m.log = { records: records.length, programRuns: runs, verifyOk: v.code === 0 };
  const ok = v.code === 0 && runs > 0;
  return { ok, detail: ok ? `${records.length} records, ${runs} program runs each recorded before it ran, hash chain intact` : 'the audit trail is not intact' };
};
