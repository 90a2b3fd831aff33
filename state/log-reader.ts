// The read side of the store: the state folded from the log (from the newest usable snapshot, or
// from the log's start or checkpoint), the records themselves, and follow(): a read-only store sees
// another process's appends by polling the files (and finds its way back after a compaction). The
// writer (log-writer.ts) builds on it.
import { Observable, share, Subject } from 'rxjs';
import { StateError } from './errors.js';
import type { CompactStep, CompactTarget } from './compact.js';
import type { NewEvent } from './events.js';
import type { CompactResult, OpenOptions, Store } from './log-store.js';
import { emptyState, replay, type ProjectionState } from './projection.js';
import { decodeLine, type LogRecord } from './record.js';
import { type Position, type ScanResult, scanLog, TamperError } from './replay.js';
import { firstSeqOf, liveSegments, readLines, segmentFileId } from './segments.js';
import { loadSnapshot } from './snapshot.js';
import { type WarmStart, warmUsable } from './warm.js';

export class LogReader implements Store {
  protected st: ProjectionState = emptyState();
  protected end: Position = { segment: 1, offset: 0 };   // just past the last good record
  protected last: Position | undefined;                  // line of the last good record
  protected snapSeq = 0;
  protected readonly appended = new Subject<LogRecord>();
  protected readonly firstSeqs = new Map<number, number | undefined>();
  protected closed = false;
  private polling = false;
  private endFile: { segment: number; id: string | undefined } | undefined;   // the file read last
  private follow$: Observable<LogRecord> | undefined;

  constructor(readonly stateDir: string, protected readonly opts: OpenOptions) {}

  get readonly(): boolean { return true; }
  state(): ProjectionState { return this.st; }

  // Folds the log from where `warm` says a writer of this process stopped (when the log still goes
  // on from there), else from the newest snapshot that matches it, else from its start.
  async load(warm?: WarmStart): Promise<ScanResult> {
    if (warm !== undefined && this.opts.rebuild !== true && warmUsable(this.stateDir, warm)) {
      // The log does not go on from where we stopped (rewritten in place): the cold path judges it.
      try { return await this.foldFrom(warm.state, warm.end, warm.last, warm.snapSeq); } catch { /* below */ }
    }
    const snap = this.opts.rebuild === true ? undefined : await loadSnapshot(this.stateDir);
    if (snap !== undefined) return this.foldFrom(snap.snapshot.state, snap.tail, snap.snapshot.at, snap.snapshot.seq);
    return this.foldFrom(emptyState(), undefined, undefined, 0);
  }

  // Folds the records after `from` onto `state` (the whole log when `from` is undefined).
  private async foldFrom(state: ProjectionState, from: Position | undefined, last: Position | undefined, snapSeq: number): Promise<ScanResult> {
    let folding = replay(state);
    const r = await scanLog(this.stateDir, {
      from, after: from === undefined ? undefined : { seq: state.seq, hash: state.hash },
      onCheckpoint: (cp) => { folding = replay(cp.state); }, onRecord: (rec) => { folding.add(rec); },
    });
    this.st = folding.result();
    this.end = r.end;
    this.last = r.last ?? last;
    this.snapSeq = snapSeq;
    return r;
  }

  private refuse(): StateError { return new StateError('EREADONLY', `the store for ${this.stateDir} was opened read-only`); }
  append(_events: NewEvent[]): Promise<LogRecord[]> {
    return Promise.reject(this.closed ? new StateError('ECLOSED', `the store for ${this.stateDir} is closed`) : this.refuse());
  }
  snapshot(): Promise<void> { return Promise.reject(this.refuse()); }
  compact(_target: CompactTarget, _opts?: { onStep?: (s: CompactStep) => void }): Promise<CompactResult> { return Promise.reject(this.refuse()); }

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
      const id = segmentFileId(this.stateDir, this.end.segment);
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
    this.closed = true;
    this.appended.complete();
  }
}
