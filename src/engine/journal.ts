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
  // Appends go in the order they were asked for, and a flush returns only once everything noted
  // before it is on disk, even when another caller's append took its events along.
  let last: Promise<unknown> = Promise.resolve();
  const flushWith = (extra: NewEvent[]): Promise<LogRecord[]> => {
    const batch = [...pending, ...extra];
    pending = [];
    const run = last.then(() => (batch.length === 0 ? [] : store.append(batch)));
    last = run.catch(() => undefined);
    return run;
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
