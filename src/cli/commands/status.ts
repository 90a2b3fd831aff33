import { isVnetfwError, VnetfwError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { loadDoctor, loadEngine, loadState } from '../lazy.js';
import type { NetworkStatus } from '../../../state/index.js';
import { command } from '../spec.js';

export const statusObject = (st: NetworkStatus): Record<string, unknown> => ({
  name: st.name,
  state: st.state,
  backend: st.backend,
  bridge: st.bridge,
  forward: st.definition?.forward.mode ?? null,
  bridgeCreated: st.bridgeCreated,
  backends: Object.keys(st.removals),
  rules: Object.values(st.removals).reduce((n, r) => n + (r?.groups.reduce((m, g) => m + g.commands.length, 0) ?? 0), 0),
  inFlight: st.inFlight === null ? null : { op: st.inFlight.op, kind: st.inFlight.kind, steps: st.inFlight.steps.length },
  ...(st.lastError === undefined ? {} : { lastError: st.lastError }),
  ...(st.drift === undefined ? {} : { drift: st.drift }),
  // What vnetfw did for the host's other firewall managers (firewalld, Docker, host tables).
  ...(st.integration === undefined ? {} : { integration: st.integration.map((s) => ({ neighbour: s.neighbour, command: s.argv.join(' ') })) }),
});

const integrationLine = (st: NetworkStatus): string[] => {
  if (st.integration === undefined) return [];
  const counts = new Map<string, number>();
  for (const s of st.integration) counts.set(s.neighbour, (counts.get(s.neighbour) ?? 0) + 1);
  return [`neighbours: ${[...counts].map(([n, c]) => `${n} (${c} step${c === 1 ? '' : 's'})`).join(', ')}`];
};

// Names in code-point order: the same on every host, and without localeCompare, whose first call
// loads ICU's collation data (a few milliseconds of every `list` and `status`).
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// Read-only: never takes the writer lock, so it works while the daemon or another command runs.
export const readNetworks = async (stateDir: string): Promise<NetworkStatus[]> => {
  const { openStore } = await loadState();
  const store = await openStore(stateDir, { readonly: true });
  try {
    return Object.values(store.state().networks).sort((a, b) => byName(a.name, b.name));
  } finally {
    await store.close();
  }
};

// blockedBy: what `vnetfw doctor NAME` finds. Reading the kernel is a logged program run, so only
// an active network's status takes the writer lock (briefly), and only with --json. The status
// itself must not fail because the host firewall could not be read: blockedBy is then null and
// blockedByError says why.
const blockedByOf = async (ctx: CliContext, name: string): Promise<{ blockedBy: Record<string, unknown>[] | null; blockedByError?: string }> => {
  const [{ doctorNetworks, withEngine }, { findingJson }] = await Promise.all([loadEngine(), loadDoctor()]);
  try {
    const [report] = await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, (env) => doctorNetworks(env, [name]));
    return { blockedBy: (report?.findings ?? []).map(findingJson) };
  } catch (e) {
    if (!isVnetfwError(e)) throw e;
    return { blockedBy: null, blockedByError: e.message };
  }
};

export const statusCommand = command({
  name: 'status',
  summary: 'one network\'s state, backend and bridge',
  args: [{ name: 'NAME', complete: 'network' }],
  description: 'Shows one network. With --json: an object with name, state, backend, bridge and more, and blockedBy:\nfor an active network, what `vnetfw doctor NAME` finds (one object per finding; empty otherwise).',
  run: async ({ args: [name = ''] }, ctx) => {
    const st = (await readNetworks(ctx.stateDir)).find((n) => n.name === name);
    if (st === undefined) throw new VnetfwError('ENONET', `network '${name}' is not defined`, { exitCode: 2 });
    const o = statusObject(st);
    if (ctx.json) {
      const blocked = st.state === 'active' ? await blockedByOf(ctx, name) : { blockedBy: [] };
      ctx.stdout.write(`${JSON.stringify({ ...o, ...blocked })}\n`);
      return 0;
    }
    ctx.stdout.write([
      `name:     ${st.name}`, `state:    ${st.state}`, `backend:  ${st.backend ?? '-'}`,
      `bridge:   ${st.bridge}${st.bridgeCreated ? ' (created by vnetfw)' : ''}`, `forward:  ${String(o.forward)}`,
      `rules:    ${String(o.rules)}`, ...integrationLine(st), ...(st.lastError === undefined ? [] : [`error:    ${st.lastError}`]), '',
    ].join('\n'));
    return 0;
  },
});

export const listCommand = command({
  name: 'list',
  summary: 'every defined network: name, state, backend, bridge',
  description: 'Lists every defined network. With --json: one object per line.',
  run: async (_inv, ctx) => {
    const all = await readNetworks(ctx.stateDir);
    if (ctx.json) { for (const st of all) ctx.stdout.write(`${JSON.stringify(statusObject(st))}\n`); return 0; }
    const rows = [['NAME', 'STATE', 'BACKEND', 'BRIDGE'], ...all.map((s) => [s.name, s.state, s.backend ?? '-', s.bridge])];
    const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    for (const r of rows) ctx.stdout.write(`${r.map((c, i) => (i < 3 ? c.padEnd(w[i] ?? 0) : c)).join('  ')}\n`);
    return 0;
  },
});
