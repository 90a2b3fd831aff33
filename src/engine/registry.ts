import { readFile } from 'node:fs/promises';
import type { NetworkDef } from '../definition/types.js';
import { loadNetworkFile } from '../definition/index.js';
import type { NetworkStatus, Store } from '../../state/index.js';
import { VnetfwError } from '../errors.js';
import type { Journal } from './journal.js';

// Definitions live in the event log (network.defined / network.undefined); this module is the
// one place that turns a request about a network name into its recorded status.
export class EngineError extends VnetfwError {
  constructor(code: string, message: string, exitCode: 1 | 2 | 3 = 1, cause?: unknown) {
    super(code, message, { exitCode, cause });
    this.name = 'EngineError';
  }
}

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

// Two networks on one bridge would share (and remove) each other's rules.
export const assertBridgeFree = (store: Store, def: NetworkDef, file: string): void => {
  for (const other of Object.values(store.state().networks)) {
    if (other.name !== def.name && other.definition?.bridge.name === def.bridge.name) {
      throw new EngineError('EBRIDGE', `${file}: bridge name '${def.bridge.name}' is already used by network '${other.name}'`, 2);
    }
  }
};

// Validates first, writes after: a bad file changes nothing.
export const defineNetwork = async (journal: Journal, file: string): Promise<NetworkDef> => {
  const def = await loadNetworkFile(file);
  const xml = await readFile(file, 'utf8');
  const store = journal.store;
  const existing = store.state().networks[def.name];
  if (existing !== undefined && existing.state !== 'stopped' && existing.definition !== null
      && existing.definition.bridge.name !== def.bridge.name) {
    throw new EngineError('EACTIVE', `${file}: network '${def.name}' is ${existing.state}: stop it before changing its bridge`, 2);
  }
  assertBridgeFree(store, def, file);
  await journal.write({ type: 'network.defined', network: def.name, data: { definition: def, xml } });
  return def;
};

export const undefineNetwork = async (journal: Journal, name: string): Promise<void> => {
  const st = networkStatus(journal.store, name);
  if (st.state !== 'stopped') {
    throw new EngineError('EACTIVE', `network '${name}' is ${st.state}: stop it before undefining it`, 2);
  }
  await journal.write({ type: 'network.undefined', network: name, data: {} });
};
