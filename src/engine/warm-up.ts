import type { NetworkDef } from '../definition/types.js';
import { ALL_BACKENDS, composeApply, emptyPrivateState } from '../firewall/index.js';
import type { EngineEnv } from './env.js';

// A long-running process (the daemon) composes the batches of a backend it is not on only when
// that backend is switched to: the first time, V8 runs that code cold, which made a switch of 40
// networks spend about 35 ms more composing than a warm run does (2-3 ms). Composing once for
// every backend while idle, and throwing the result away, moves that cost off the switch. Pure:
// no program runs, nothing is recorded.
export const warmUpComposition = (env: EngineEnv): void => {
  const defs: NetworkDef[] = [];
  for (const n of Object.values(env.journal.store.state().networks)) if (n.definition !== null) defs.push(n.definition);
  if (defs.length === 0) return;
  for (const backend of ALL_BACKENDS) {
    try {
      composeApply(backend, defs, { existing: emptyPrivateState(), mergeTolerated: true });
      composeApply(backend, defs, { existing: null, mergeTolerated: true });
    } catch {
      // A definition this backend cannot express fails the same way when really applied, where it
      // is reported; warming up says nothing.
    }
  }
};
