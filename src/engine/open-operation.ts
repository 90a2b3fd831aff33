import type { Backend } from '../firewall/index.js';
import type { EngineEnv } from './env.js';
import { forNetwork, newOpId, type OpScope } from './steps.js';

// Several networks handled by one command share one operation id, so their firewall work can go
// to the kernel as one batch per program; the log ties each record to its networks.

export type OpKind = 'start' | 'stop' | 'switch' | 'repair' | 'adopt';
export interface OpExtra { from?: Backend; to?: Backend; strategy?: string }

// One operation for several networks: operation.started for each, durable before any program.
export const openOp = async (env: EngineEnv, starts: ReadonlyArray<{ network: string; kind: OpKind; extra?: OpExtra }>): Promise<OpScope> => {
  const scope: OpScope = {
    op: newOpId(), network: undefined, networks: starts.map((s) => s.network), journal: env.journal, runner: env.runner, counter: { next: 1 },
    ...(env.signal === undefined ? {} : { signal: env.signal }),
  };
  for (const s of starts) env.journal.note({ type: 'operation.started', network: s.network, op: scope.op, data: { kind: s.kind, ...s.extra } });
  await env.journal.flush();
  return scope;
};

export const openScope = async (env: EngineEnv, network: string, kind: OpKind, extra: OpExtra = {}): Promise<OpScope> =>
  forNetwork(await openOp(env, [{ network, kind, extra }]), network);
