// The write side of the store: one writer per state directory (it holds the lock). Appends are
// serialised, written with one write + one fsync per batch (group commit), and only then folded
// into the in-memory state and announced to followers; snapshots and compaction run in the same
// chain. Reading is the reader's (log-reader.ts).
import { closeSync, constants, fstatSync, ftruncateSync, fsyncSync, openSync } from 'node:fs';
import type { Observable } from 'rxjs';
import { type CompactStep, type CompactTarget, findCut, logBytes, removeStaleSegments, rewriteHead } from './compact.js';
import { StateError } from './errors.js';
import { checkEvent, event, type NewEvent, normalizeEvent, RECORD_VERSION } from './events.js';
import { type FileIo, nodeIo } from './file-io.js';
import { createSegment, quarantineTornTail } from './layout.js';
import type { Lock } from './lock.js';
import type { CompactResult, OpenOptions } from './log-store.js';
import { LogReader } from './log-reader.js';
import { replay } from './projection.js';
import { type LogRecord, sealRecord } from './record.js';
import { type ScanResult, TamperError } from './replay.js';
import { NOFOLLOW } from './secure-dir.js';
import { segmentFileId, segmentPath } from './segments.js';
import { stateDigest, writeSnapshot } from './snapshot.js';
import { verifyLog } from './verify.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_SNAPSHOT_EVERY = 2_000;
export const CLOSE_SNAPSHOT_AFTER = 1_000;

export class LogWriter extends LogReader {
  private fd = -1;
  private chain: Promise<unknown> = Promise.resolve();
  private broken: string | undefined;
  private readonly io: FileIo;
  private readonly now: () => Date;

  constructor(stateDir: string, opts: OpenOptions, private readonly lock: Lock) {
    super(stateDir, opts);
    this.io = opts.io ?? nodeIo;
    this.now = opts.now ?? (() => new Date());
  }

  override get readonly(): boolean { return false; }

  // Folds the log, then makes it ready to append to: an interrupted compaction finished, a torn
  // tail quarantined, a stale lock noted, a long tail snapshotted.
  override async load(): Promise<ScanResult> {
    const holder = this.opts.warm;
    const warm = holder?.current;
    if (holder !== undefined) holder.current = undefined;
    const r = await super.load(warm);
    const segments = removeStaleSegments(this.stateDir);   // an interrupted compaction's leftovers go
    const pending: NewEvent[] = [];
    if (r.torn !== undefined) pending.push(quarantineTornTail(this.stateDir, r.torn, this.now()));
    if (this.lock.staleOwner !== undefined) pending.push(event('lock.recovered', { pid: this.lock.staleOwner }));
    const current = segments.at(-1) ?? 1;
    if (segments.length === 0) createSegment(this.stateDir, current);
    this.fd = openSync(segmentPath(this.stateDir, current), constants.O_RDWR | NOFOLLOW);
    this.end = { segment: current, offset: fstatSync(this.fd).size };
    if (pending.length > 0) await this.append(pending);
    if (this.st.seq - this.snapSeq >= this.snapshotEvery) await this.snapshot();
    return r;
  }

  private get snapshotEvery(): number { return this.opts.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY; }

  override append(events: NewEvent[]): Promise<LogRecord[]> {
    const run = this.chain.then(() => this.doAppend(events));
    this.chain = run.catch(() => undefined); // one failed append must not block the next
    return run;
  }

  private async doAppend(events: NewEvent[]): Promise<LogRecord[]> {
    if (this.closed) throw new StateError('ECLOSED', `the store for ${this.stateDir} is closed`);
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
      const e = normalizeEvent(raw);
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
    // Once the tail since the last snapshot reaches snapshotEvery (counted from that snapshot, not
    // at multiples of it: a daemon snapshots at the end of its cycles, and a boundary crossed in
    // the middle of a switch would add the snapshot's write to that switch).
    // Not in the middle of an operation: each network in flight would carry its steps, and a batch
    // shared by 1000 networks its whole input 1000 times over. The tail stays long, so the
    // snapshot is taken at the first append with nothing in flight (or at close).
    if (events[0]?.type !== 'snapshot.written' && this.st.seq - this.snapSeq >= this.snapshotEvery
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

  override async snapshot(): Promise<void> {
    const run = this.chain.then(() => this.snapshotNow());
    this.chain = run.catch(() => undefined);
    return run;
  }

  override compact(target: CompactTarget, opts: { onStep?: (s: CompactStep) => void } = {}): Promise<CompactResult> {
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

  override follow(): Observable<LogRecord> { return this.appended.asObservable(); }

  override async close(): Promise<void> {
    if (this.closed) return;
    await this.chain;
    // Leave a fresh snapshot behind when many records are uncovered: the next open (often a CLI
    // command right after) then folds almost nothing. Only a crash leaves a long tail.
    if (this.broken === undefined && this.st.seq - this.snapSeq >= Math.min(this.opts.closeSnapshotAfter ?? CLOSE_SNAPSHOT_AFTER, this.snapshotEvery)) {
      try { await this.snapshotNow(); } catch { /* the next open folds the tail instead */ }
    }
    this.closed = true;
    // Still under the lock: the file identity is that of the file we appended to.
    const file = segmentFileId(this.stateDir, this.end.segment);
    if (this.opts.warm !== undefined && this.broken === undefined && file !== undefined) {
      this.opts.warm.current = { state: this.st, end: { ...this.end }, last: this.last, snapSeq: this.snapSeq, file };
    }
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.lock.release();
    this.appended.complete();
  }
}
