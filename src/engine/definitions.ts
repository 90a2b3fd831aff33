import type { NetworkDef } from '../definition/types.js';
import { readNetworkFile } from '../definition/index.js';
import type { Store } from '../../state/index.js';
import { EngineError } from './errors.js';
import type { Journal } from './journal.js';
import { assertBridgeFree, networkStatus } from './network-lookup.js';

// Defining and undefining networks: every file checked against the log (and the others) first.

interface Loaded { file: string; def: NetworkDef; xml: string }

// Checks one file's network against the store and against the files before it in the same call.
const checkDefinable = (store: Store, l: Loaded, earlier: readonly Loaded[], names: ReadonlySet<string>): void => {
  const { file, def } = l;
  const existing = store.state().networks[def.name];
  if (existing !== undefined && existing.state !== 'stopped' && existing.definition !== null
      && existing.definition.bridge.name !== def.bridge.name) {
    throw new EngineError('EACTIVE', `${file}: network '${def.name}' is ${existing.state}: stop it before changing its bridge`, 2);
  }
  for (const e of earlier) {
    if (e.def.name === def.name) throw new EngineError('EDUPLICATE', `${file}: network name '${def.name}' is also defined by ${e.file}`, 2);
    if (e.def.bridge.name === def.bridge.name) {
      throw new EngineError('EBRIDGE', `${file}: bridge name '${def.bridge.name}' is also used by network '${e.def.name}' in ${e.file}`, 2);
    }
  }
  assertBridgeFree(store, def, file, names);
};

// Validates every file first, writes after, all in one append (one fsync): a bad file, or two
// files that clash, change nothing.
export const defineNetworks = async (journal: Journal, files: readonly string[]): Promise<NetworkDef[]> => {
  const loaded: Loaded[] = [];
  for (const file of files) {
    // One read: the bytes validated are the bytes recorded.
    const { def, xml } = await readNetworkFile(file);
    loaded.push({ file, def, xml });
  }
  const names = new Set(loaded.map((l) => l.def.name));
  loaded.forEach((l, i) => checkDefinable(journal.store, l, loaded.slice(0, i), names));
  const events = loaded.map(({ def, xml }) => ({ type: 'network.defined' as const, network: def.name, data: { definition: def, xml } }));
  const last = events.pop();
  if (last === undefined) return [];
  for (const ev of events) journal.note(ev);
  await journal.write(last);
  return loaded.map((l) => l.def);
};

export const defineNetwork = async (journal: Journal, file: string): Promise<NetworkDef> => (await defineNetworks(journal, [file]))[0]!;

export const undefineNetwork = async (journal: Journal, name: string): Promise<void> => {
  const st = networkStatus(journal.store, name);
  if (st.state !== 'stopped') {
    throw new EngineError('EACTIVE', `network '${name}' is ${st.state}: stop it before undefining it`, 2);
  }
  await journal.write({ type: 'network.undefined', network: name, data: {} });
};
