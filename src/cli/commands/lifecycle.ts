import type { EngineEnv } from '../../engine/index.js';
import { loadEngine } from '../lazy.js';
import type { NetworkStatus } from '../../../state/index.js';
import type { CliContext } from '../context.js';
import { command } from '../spec.js';
import { statusObject } from './status.js';

// start/stop share everything but the event they send: each network is its own all-or-nothing
// transaction; one failing network does not stop the others, and the exit code says so.
const runMany = async (verb: 'start' | 'stop', args: string[], ctx: CliContext): Promise<number> => {
  const positionals = [...new Set(args)];
  const progress = ctx.isTTY && !ctx.json && positionals.length > 1;
  const { EngineError, recoverNamed, runNetworkOps, withEngine } = await loadEngine();
  const results: Array<{ name: string; ok: boolean; status?: NetworkStatus; error?: string }> = [];
  await withEngine({
    stateDir: ctx.stateDir, configPath: ctx.configPath,
    ...(progress ? { onProgress: (n: string, m: string) => { ctx.stderr.write(`  ${n}: ${m}\n`); } } : {}),
  }, async (env: EngineEnv) => {
    if (progress) ctx.stderr.write(`${verb} ${positionals.length} networks\n`);
    for (const n of await recoverNamed(env, positionals)) ctx.stderr.write(`vnetfw: ${n}: undid an interrupted operation first\n`);
    const event = verb === 'start' ? { type: 'START' as const, backend: env.backend() } : { type: 'STOP' as const };
    // All named networks in one operation: their rules go to the kernel as one batch per program.
    const done = await runNetworkOps(env, positionals.map((name) => ({ name, event })));
    for (const r of done) results.push(r.status === undefined ? { name: r.name, ok: false, error: r.error ?? 'failed' } : { name: r.name, ok: true, status: r.status });
  });
  if (positionals.length === 1 && results[0]?.ok === false) throw new EngineError('EOPFAILED', results[0].error ?? 'failed');
  for (const r of results) {
    if (ctx.json) ctx.stdout.write(`${JSON.stringify(r.status === undefined ? { name: r.name, ok: false, error: r.error } : { ok: true, ...statusObject(r.status) })}\n`);
    else if (!r.ok) ctx.stderr.write(`vnetfw: ${r.error ?? 'failed'}\n`);
  }
  return results.every((r) => r.ok) ? 0 : 1;
};

const NAMES = [{ name: 'NAME', variadic: true, complete: 'network' }] as const;

export const startCommand = command({
  name: 'start',
  summary: 'create the bridge if absent and apply the firewall',
  args: NAMES,
  description: 'Per network: creates its bridge if absent (addresses, MTU, STP, up), turns on IP forwarding for\nnat/route networks and applies its firewall with the configured backend, in one transaction per\nprogram. Each network is all-or-nothing: on failure everything it did is undone.',
  run: ({ args }, ctx) => runMany('start', args, ctx),
});

export const stopCommand = command({
  name: 'stop',
  summary: 'remove exactly the recorded rules and the bridge vnetfw created',
  args: NAMES,
  description: 'Removes exactly the rules recorded for each network (its saved removal list) and deletes the\nbridge if vnetfw created it.',
  run: ({ args }, ctx) => runMany('stop', args, ctx),
});
