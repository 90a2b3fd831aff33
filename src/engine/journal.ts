import type { LogRecord, NewEvent, Store } from '../../state/index.js';

// Buffers events so that one operation costs few fsyncs: records that only report what already
// happened (a program's result, a transition) wait in memory and go to disk together with the next
// intent, which must be durable before its program runs. `flush` is the only path to the store.
export interface Journal {
  readonly store: Store;
  note(ev: NewEvent): void;              // buffered; durable at the next flush
  write(ev: NewEvent): Promise<LogRecord>; // buffered events plus this one, durable on return
  flush(): Promise<void>;
}

export const createJournal = (store: Store): Journal => {
  let pending: NewEvent[] = [];
  const flushWith = async (extra: NewEvent[]): Promise<LogRecord[]> => {
    const batch = [...pending, ...extra];
    pending = [];
    if (batch.length === 0) return [];
    return store.append(batch);
  };
  return {
    store,
    note: (ev) => { pending.push(ev); },
    write: async (ev) => {
      const recs = await flushWith([ev]);
      const last = recs[recs.length - 1];
      if (last === undefined) throw new Error('journal: store appended nothing');
      return last;
    },
    flush: async () => { await flushWith([]); },
  };
};
