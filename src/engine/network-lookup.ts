import type { NetworkDef } from '../definition/types.js';
import type { NetworkStatus, Store } from '../../state/index.js';
import { EngineError } from './errors.js';

// Definitions live in the event log (network.defined / network.undefined); this module is the
// one place that turns a request about a network name into its recorded status.
export const networkStatus = (store: Store, name: string): NetworkStatus => {
  const st = store.state().networks[name];
  if (st === undefined) throw new EngineError('ENONET', `network '${name}' is not defined`, 2);
  return st;
};

export const definitionOf = (store: Store, name: string): NetworkDef => {
  const st = networkStatus(store, name);
  if (st.definition === null) throw new EngineError('ENONET', `network '${name}' is not defined`, 2);
  return st.definition;
};

// Two networks on one bridge would share (and remove) each other's rules. Networks named in
// `replaced` are being redefined alongside: their recorded bridge no longer counts.
export const assertBridgeFree = (store: Store, def: NetworkDef, file: string, replaced: ReadonlySet<string> = new Set()): void => {
  for (const other of Object.values(store.state().networks)) {
    if (other.name !== def.name && !replaced.has(other.name) && other.definition?.bridge.name === def.bridge.name) {
      throw new EngineError('EBRIDGE', `${file}: bridge name '${def.bridge.name}' is already used by network '${other.name}'`, 2);
    }
  }
};
