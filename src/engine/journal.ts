import { digestOutput, type EventData, type LogRecord, type NewEvent, type Store } from '../../state/index.js';

// Buffers events so that one operation costs few fsyncs: records that only report what already
// happened (a program's result, a transition) wait in memory and go to disk together with the next
// intent, which must be durable before its program runs. `flush` is the only path to the store.
//
// A query's result (`noteQuery`) is written with its output in full only when it is worth auditing:
// the query failed, or the check that ran it found something and said so with `keep(op)` before
// the flush. Otherwise the log keeps a digest of the output (sha256 and size): an idle host's
// periodic check then adds a few hundred bytes, not the whole ruleset, each time.
export interface Journal {
  readonly store: Store;
  note(ev: NewEvent): void;              // buffered; durable at the next flush
  noteQuery(ev: NewEvent<'command.finished'>): void;   // buffered like note; output digested at the flush unless kept
  keep(op: string): void;                // the queries of operation `op` found something: keep their output
  write(ev: NewEvent): Promise<LogRecord>; // buffered events plus this one, durable on return
  flush(): Promise<void>;
}

type Pending = { ev: NewEvent; query: boolean };

const failed = (d: EventData['command.finished']): boolean => d.exitCode !== 0 || d.signal !== undefined || d.timedOut === true;

export const createJournal = (store: Store): Journal => {
  let pending: Pending[] = [];
  const kept = new Set<string>();
  // What a pending entry becomes on disk: a query that found nothing keeps only its output's digest.
  const settle = ({ ev, query }: Pending): NewEvent => {
    if (!query) return ev;
    const d = ev.data as EventData['command.finished'];
    if (failed(d) || (ev.op !== undefined && kept.has(ev.op))) return ev;
    return { ...ev, data: digestOutput(d) };
  };
  // Appends go in the order they were asked for, and a flush returns only once everything noted
  // before it is on disk, even when another caller's append took its events along.
  // Group commit: writes asked for before the next append has begun join it, one fsync for all.
  // Batches run side by side (iptables-restore and ip6tables-restore) ask for their intents in the
  // same turn of the event loop: both are durable before either program starts, at the cost of one.
  let last: Promise<unknown> = Promise.resolve();
  let open: { events: NewEvent[]; run: Promise<LogRecord[]> } | null = null;
  const flushWith = (extra: NewEvent[]): Promise<LogRecord[]> => {
    const events = [...pending.map(settle), ...extra];
    pending = [];
    kept.clear();
    if (open !== null) {
      const from = open.events.length;
      open.events.push(...events);
      return open.run.then((recs) => recs.slice(from, from + events.length));
    }
    const own = events.length;   // joiners add to `events` after this
    const batch: { events: NewEvent[]; run: Promise<LogRecord[]> } = { events, run: Promise.resolve([]) };
    batch.run = last.then(() => {
      if (open === batch) open = null;
      return batch.events.length === 0 ? [] : store.append(batch.events);
    });
    open = batch;
    last = batch.run.catch(() => undefined);
    return batch.run.then((recs) => recs.slice(0, own));
  };
  return {
    store,
    note: (ev) => { pending.push({ ev, query: false }); },
    noteQuery: (ev) => { pending.push({ ev, query: true }); },
    keep: (op) => { kept.add(op); },
    write: async (ev) => {
      const recs = await flushWith([ev]);
      const last = recs[recs.length - 1];
      if (last === undefined) throw new Error('journal: store appended nothing');
      return last;
    },
    flush: async () => { await flushWith([]); },
  };
};
