// Run a function with the store open for writing, optionally waiting for another writer (the
// daemon, another command) to finish: the CLI's commands use this with a timeout.
import { isStateError, StateError } from './errors.js';
import { openStore, type OpenOptions, type Store } from './log-store.js';

export interface WithStoreOptions extends OpenOptions {
  wait?: boolean;        // poll for the lock instead of failing with ELOCKED at once
  timeoutMs?: number;    // how long to wait (default 30 s)
  lockPollMs?: number;   // default 100 ms
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const withStore = async <T>(stateDir: string, fn: (store: Store) => Promise<T> | T, opts: WithStoreOptions = {}): Promise<T> => {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let store: Store;
  for (;;) {
    try {
      store = await openStore(stateDir, opts);
      break;
    } catch (err) {
      if (opts.wait !== true || !isStateError(err, 'ELOCKED')) throw err;
      if (Date.now() >= deadline) {
        throw new StateError('ELOCKED', `${err.message}; gave up after waiting ${Math.round(timeoutMs / 1000)} s`, { cause: err });
      }
      await sleep(opts.lockPollMs ?? 100);
    }
  }
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
};
