// The store: the one way to append to and read the log. One writer per state directory (lock);
// appends are serialised, written with one write + one fsync per batch (group commit), and only
// then folded into the in-memory state and announced to followers.
import { closeSync, constants, fstatSync, ftruncateSync, fsyncSync, openSync, statSync } from 'node:fs';
import { Observable, share, Subject } from 'rxjs';
import { type CompactStep, type CompactTarget, findCut, logBytes, removeStaleSegments, rewriteHead } from './compact.js';
import { createSegment, prepareDirs, quarantineTornTail } from './layout.js';
import { checkStateDir, NOFOLLOW } from './secure-dir.js';
import { StateError } from './errors.js';
import { checkEvent, event, type NewEvent, normalizeEvent, RECORD_VERSION } from './events.js';
import { type FileIo, nodeIo } from './file-io.js';
import { acquireLock, type Lock } from './lock.js';
import { emptyState, replay, type ProjectionState } from './projection.js';
import { decodeLine, type LogRecord, sealRecord } from './record.js';
import { type Position, scanLog, TamperError } from './replay.js';
import { firstSeqOf, liveSegments, readLines, segmentPath } from './segments.js';
import { loadSnapshot, stateDigest, writeSnapshot } from './snapshot.js';
import { verifyLog } from './verify.js';

export interface Store {
  readonly stateDir: string;
  readonly readonly: boolean;
  append(events: NewEvent[]): Promise<LogRecord[]>;
  records(opts?: { fromSeq?: number }): AsyncIterable<LogRecord>;
  state(): ProjectionState;
  follow(): Observable<LogRecord>;
  snapshot(): Promise<void>;   // write a snapshot now (normally every snapshotEvery records)
  compact(target: CompactTarget, opts?: { onStep?: (s: CompactStep) => void }): Promise<CompactResult>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly?: boolean;          // no lock, no repair, no writes: for `log`, `status`, `list`
  segmentBytes?: number;       // rotate segments above this size (default 64 MiB)
  snapshotEvery?: number;      // default 2,000 records (bounds the tail an open must fold)
  now?: () => Date;
  rebuild?: boolean;           // ignore snapshots: fold the whole log
  io?: FileIo;
  pollMs?: number;             // how often a read-only follow() looks for new records (default 250)
}

export interface CompactResult {
  compacted: boolean;
  reason?: string;        // why nothing was dropped
  dropped: number;        // records this compaction dropped
  from: number;           // the checkpoint stands for seq from..through (every record dropped so far)
  through: number;
  seq: number;            // the last record now
  bytesBefore: number;
  bytesAfter: number;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SNAPSHOT_EVERY = 2_000;
const CLOSE_SNAPSHOT_AFTER = 1_000;

class LogStore implements Store {
  private st: ProjectionState = emptyState();
  private end: Position = { segment: 1, offset: 0 };   // just past the last good record
  private last: Position | undefined;                  // line of the last good record
  private fd = -1;
  private snapSeq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly appended = new Subject<LogRecord>();
  private readonly firstSeqs = new Map<number, number | undefined>();
  // argv/stdin of commands intended but not yet finished, keyed network|op|step.
  private readonly running = new Map<string, { argv: string[]; stdin?: string }>();
  private closed = false;
  private broken: string | undefined;
  private polling = false;
  private endFile: { segment: number; id: string | undefined } | undefined;   // a reader's: the file it read last
  private follow$: Observable<LogRecord> | undefined;
  private readonly io: FileIo;
  private readonly now: () => Date;

  constructor(readonly stateDir: string, private readonly opts: OpenOptions, private readonly lock: Lock | undefined) {
    this.io = opts.io ?? nodeIo;
    this.now = opts.now ?? (() => new Date());
  }

  get readonly(): boolean { return this.lock === undefined; }
  state(): ProjectionState { return this.st; }

  async load(): Promise<void> {
    let state = emptyState();
    let from: Position | undefined;
    let after: { seq: number; hash: string } | undefined;
    const snap = this.opts.rebuild === true ? undefined : await loadSnapshot(this.stateDir);
    if (snap !== undefined) {
      state = snap.snapshot.state;
      from = snap.tail;
      after = { seq: snap.snapshot.seq, hash: snap.snapshot.hash };
      this.last = snap.snapshot.at;
      this.snapSeq = snap.snapshot.seq;
    }
    let folding = replay(state);
    const r = await scanLog(this.stateDir, { from, after, onCheckpoint: (cp) => { folding = replay(cp.state); }, onRecord: (rec) => { folding.add(rec); } });
    this.st = folding.result();
    this.end = r.end;
    this.last = r.last ?? this.last;
    if (this.readonly) return;

    removeStaleSegments(this.stateDir);   // an interrupted compaction's leftovers
    const pending: NewEvent[] = [];
    if (r.torn !== undefined) pending.push(quarantineTornTail(this.stateDir, r.torn, this.now()));
    if (this.lock?.staleOwner !== undefined) pending.push(event('lock.recovered', { pid: this.lock.staleOwner }));
    const segments = liveSegments(this.stateDir);
    const current = segments.at(-1) ?? 1;
    if (segments.length === 0) createSegment(this.stateDir, current);
    this.fd = openSync(segmentPath(this.stateDir, current), constants.O_RDWR | NOFOLLOW);
    this.end = { segment: current, offset: fstatSync(this.fd).size };
    if (pending.length > 0) await this.append(pending);
    if (this.st.seq - this.snapSeq >= this.snapshotEvery) await this.snapshot();
  }

  private get snapshotEvery(): number { return this.opts.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY; }

  // Copies the intended command's argv/stdin into its command.finished record.
  private withCommand(e: NewEvent): NewEvent {
    if (e.type !== 'command.intended' && e.type !== 'command.finished') return e;
    const d = e.data as { step: number; argv?: string[]; stdin?: string };
    const key = `${e.network ?? ''}|${e.op ?? ''}|${d.step}`;
    if (e.type === 'command.intended') {
      this.running.set(key, d.stdin === undefined ? { argv: d.argv ?? [] } : { argv: d.argv ?? [], stdin: d.stdin });
      return e;
    }
    const cmd = this.running.get(key);
    this.running.delete(key);
    return cmd === undefined || d.argv !== undefined ? e : ({ ...e, data: { ...d, ...cmd } } as NewEvent);
  }

  append(events: NewEvent[]): Promise<LogRecord[]> {
    const run = this.chain.then(() => this.doAppend(events));
    this.chain = run.catch(() => undefined); // one failed append must not block the next
    return run;
  }

  private async doAppend(events: NewEvent[]): Promise<LogRecord[]> {
    if (this.closed) throw new StateError('ECLOSED', `the store for ${this.stateDir} is closed`);
    if (this.readonly) throw new StateError('EREADONLY', `the store for ${this.stateDir} was opened read-only`);
    if (this.broken !== undefined) throw new StateError('EBROKEN', `the event log in ${this.stateDir} could not be repaired after a failed write (${this.broken}); reopen it`);
    if (events.length === 0) return [];
    const time = this.now().toISOString();
    let prev = this.st.hash;
    let seq = this.st.seq;
    const lines: string[] = [];
    const records: LogRecord[] = [];
    for (const [i, raw] of events.entries()) {
      const problem = checkEvent(raw);
      if (problem !== null) throw new StateError('EEVENT', `event ${i} (${String(raw.type)}) is not valid: ${problem}`);
      const e = this.withCommand(normalizeEvent(raw));
      const { record, line } = sealRecord({
        v: RECORD_VERSION, seq: ++seq, time, type: e.type,
        ...(e.network === undefined ? {} : { network: e.network }), ...(e.op === undefined ? {} : { op: e.op }),
        data: e.data, prev,
      });
      prev = record.hash;
      records.push(record);
      lines.push(line);
    }
    const buf = Buffer.from(lines.join(''), 'utf8');
    const segmentBytes = this.opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (this.end.offset > 0 && this.end.offset + buf.length > segmentBytes) {
      closeSync(this.fd);
      this.fd = -1;
      const next = this.end.segment + 1;
      createSegment(this.stateDir, next);
      this.fd = openSync(segmentPath(this.stateDir, next), constants.O_RDWR | NOFOLLOW);
      this.end = { segment: next, offset: 0 };
    }
    const start = this.end.offset;
    try {
      await this.io.write(this.fd, buf, start);
      await this.io.fsync(this.fd);
    } catch (err) {
      // Take the partial batch back off, so the next append does not follow garbage.
      try { ftruncateSync(this.fd, start); fsyncSync(this.fd); } catch (e2) { this.broken = String(e2); }
      throw new StateError('EIO', `could not write the event log in ${this.stateDir}: ${(err as Error).message}`, { cause: err });
    }
    let offset = start;
    const folding = replay(this.st);
    for (const [i, rec] of records.entries()) {
      folding.add(rec);
      this.last = { segment: this.end.segment, offset };
      offset += Buffer.byteLength(lines[i]!, 'utf8');
    }
    this.st = folding.result();
    this.end = { segment: this.end.segment, offset: start + buf.length };
    for (const rec of records) this.appended.next(rec);
    // Not in the middle of an operation: each network in flight would carry its steps, and a batch
    // shared by 1000 networks its whole input 1000 times over. The boundary stays crossed, so the
    // snapshot is taken at the first append with nothing in flight (or at close).
    if (events[0]?.type !== 'snapshot.written' && Math.floor(this.st.seq / this.snapshotEvery) > Math.floor(this.snapSeq / this.snapshotEvery)
      && !Object.values(this.st.networks).some((n) => n.inFlight !== null)) {
      // Best effort: the records are durable; a failed snapshot only makes the next open slower.
      try { await this.snapshotNow(); } catch { /* retried at the next boundary */ }
    }
    return records;
  }

  // Records what the state is (snapshot.written, with its digest), then saves the file at that
  // record. Runs inside the append chain. Nothing new since the last snapshot: nothing to do.
  private async snapshotNow(): Promise<void> {
    if (this.st.seq === 0 || this.st.seq === this.snapSeq) return;
    await this.doAppend([event('snapshot.written', { digest: stateDigest(this.st) })]);
    if (this.last === undefined) return;
    writeSnapshot(this.stateDir, this.st, this.last);
    this.snapSeq = this.st.seq;
  }

  async snapshot(): Promise<void> {
    if (this.readonly) throw new StateError('EREADONLY', `the store for ${this.stateDir} was opened read-only`);
    const run = this.chain.then(() => this.snapshotNow());
    this.chain = run.catch(() => undefined);
    return run;
  }

  compact(target: CompactTarget, opts: { onStep?: (s: CompactStep) => void } = {}): Promise<CompactResult> {
    if (this.readonly) return Promise.reject(new StateError('EREADONLY', `the store for ${this.stateDir} was opened read-only`));
    const run = this.chain.then(() => this.compactNow(target, opts.onStep));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async compactNow(target: CompactTarget, onStep?: (s: CompactStep) => void): Promise<CompactResult> {
    if (this.broken !== undefined) throw new StateError('EBROKEN', `the event log in ${this.stateDir} could not be repaired after a failed write (${this.broken}); reopen it`);
    // A damaged log is evidence: it is never rewritten.
    const v = await verifyLog(this.stateDir);
    if (!v.ok) throw new TamperError(v.seq, `${v.reason}; nothing was compacted`);
    const bytesBefore = logBytes(this.stateDir);
    let found = await findCut(this.stateDir, target);
    // Everything is to go: a fresh snapshot.written at the end is the cut.
    if (found.coversAll && found.cut?.anchor.seq !== found.lastSeq) {
      await this.snapshotNow();
      found = await findCut(this.stateDir, target);
    }
    const { cut } = found;
    const through = (cut?.anchor.seq ?? found.head) - 1;
    const result = { dropped: 0, from: found.from, through: found.head - 1, seq: this.st.seq, bytesBefore, bytesAfter: bytesBefore };
    if (cut === undefined) {
      return { ...result, compacted: false, reason: `no snapshot.written record the log could start with (the cut is always at one) between seq ${found.head + 1} and the target` };
    }
    const segment = cut.at.segment;
    const current = this.end.segment === segment;
    if (current) { closeSync(this.fd); this.fd = -1; }
    let shift: number;
    try {
      shift = rewriteHead(this.stateDir, found.from, cut, onStep);
    } finally {
      // The segment may have been replaced: append to the file that is there now.
      if (current) this.fd = openSync(segmentPath(this.stateDir, segment), constants.O_RDWR | NOFOLLOW);
    }
    if (this.end.segment === segment) this.end = { segment, offset: this.end.offset + shift };
    if (this.last?.segment === segment) this.last = { segment, offset: this.last.offset + shift };
    this.firstSeqs.clear();
    // The old snapshots are gone. When the log ends at the anchor, its record already attests the
    // state: the file is saved there. Otherwise the next open folds from the checkpoint (and the
    // usual policy snapshots a long tail).
    this.snapSeq = 0;
    if (this.st.seq === cut.anchor.seq && this.last !== undefined) {
      writeSnapshot(this.stateDir, this.st, this.last);
      this.snapSeq = this.st.seq;
    }
    return { ...result, compacted: true, dropped: through - found.head + 1, through, seq: this.st.seq, bytesAfter: logBytes(this.stateDir) };
  }

  async *records(opts: { fromSeq?: number } = {}): AsyncIterable<LogRecord> {
    const fromSeq = opts.fromSeq ?? 1;
    const stop = { ...this.end };
    const segments = liveSegments(this.stateDir).filter((s) => s <= stop.segment);
    // Start in the last segment whose first record is not after fromSeq.
    let startIdx = 0;
    for (let i = segments.length - 1; i > 0; i--) {
      const seg = segments[i]!;
      if (!this.firstSeqs.has(seg)) this.firstSeqs.set(seg, firstSeqOf(this.stateDir, seg));
      const first = this.firstSeqs.get(seg);
      if (first !== undefined && first <= fromSeq) { startIdx = i; break; }
    }
    for (const seg of segments.slice(startIdx)) {
      for await (const line of readLines(this.stateDir, seg, 0, seg === stop.segment ? stop.offset : Infinity)) {
        const d = decodeLine(line.text);
        if (!d.ok) throw new TamperError(0, `${d.reason} (segment ${seg}, byte ${line.offset})`);
        if (d.record.seq >= fromSeq) yield d.record;
      }
    }
  }

  follow(): Observable<LogRecord> {
    if (!this.readonly) return this.appended.asObservable();
    // A reader sees another process's appends by polling the files; one poller for all subscribers.
    this.follow$ ??= new Observable<LogRecord>((sub) => {
      const inner = this.appended.subscribe(sub);
      const timer = setInterval(() => { void this.poll(); }, this.opts.pollMs ?? 250);
      void this.poll();
      return () => { clearInterval(timer); inner.unsubscribe(); };
    }).pipe(share());
    return this.follow$;
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      // A compaction replaces the file we read last (a new inode, other offsets): read it afresh.
      const id = fileId(this.stateDir, this.end.segment);
      if (this.endFile !== undefined && this.endFile.segment === this.end.segment && this.endFile.id !== id) {
        if (!await this.resync()) this.appended.error(new TamperError(this.st.seq + 1, `segment ${this.end.segment} was replaced and the log does not go on from seq ${this.st.seq}`));
        return;
      }
      this.endFile = { segment: this.end.segment, id };
      const folding = replay(this.st);
      const r = await scanLog(this.stateDir, {
        from: this.end, after: { seq: this.st.seq, hash: this.st.hash },
        // Subscribers see each record with the state folded up to it.
        onRecord: (rec) => { folding.add(rec); this.st = folding.result(); this.appended.next(rec); },
      });
      this.end = r.end;
      this.last = r.last ?? this.last;
    } catch (err) {
      if (!await this.resync()) this.appended.error(err);
    } finally {
      this.polling = false;
    }
  }

  // The log no longer continues where we stopped: a compaction rewrote its head. Reads it again
  // from its checkpoint and passes on the records after the last one seen, if they follow on.
  private async resync(): Promise<boolean> {
    const seen = { seq: this.st.seq, hash: this.st.hash };
    const fresh: LogRecord[] = [];
    try {
      const r = await scanLog(this.stateDir, { onRecord: (rec) => { if (rec.seq > seen.seq) fresh.push(rec); } });
      if (r.checkpoint === undefined || r.checkpoint.through > seen.seq) return false;
      if (fresh.length > 0 && fresh[0]!.prev !== seen.hash) return false;
      if (fresh.length === 0 && r.seq !== seen.seq) return false;
      this.end = r.end;
      this.last = r.last ?? this.last;
      this.firstSeqs.clear();
      this.endFile = undefined;
    } catch {
      return false;
    }
    const folding = replay(this.st);
    for (const rec of fresh) { folding.add(rec); this.st = folding.result(); this.appended.next(rec); }
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.chain;
    // Leave a fresh snapshot behind when many records are uncovered: the next open (often a CLI
    // command right after) then folds almost nothing. Only a crash leaves a long tail.
    if (!this.readonly && this.broken === undefined && this.st.seq - this.snapSeq >= Math.min(CLOSE_SNAPSHOT_AFTER, this.snapshotEvery)) {
      try { await this.snapshotNow(); } catch { /* the next open folds the tail instead */ }
    }
    this.closed = true;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.lock?.release();
    this.appended.complete();
  }
}

// Which file a segment is now (inode), undefined when it is gone.
const fileId = (stateDir: string, segment: number): string | undefined => {
  try { return String(statSync(segmentPath(stateDir, segment)).ino); } catch { return undefined; }
};

export const openStore = async (stateDir: string, opts: OpenOptions = {}): Promise<Store> => {
  let lock: Lock | undefined;
  if (opts.readonly !== true) {
    prepareDirs(stateDir);
    lock = acquireLock(stateDir);
  } else {
    checkStateDir(stateDir);
  }
  const store = new LogStore(stateDir, opts, lock);
  try {
    await store.load();
  } catch (err) {
    lock?.release();
    throw err;
  }
  return store;
};
