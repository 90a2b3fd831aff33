// One log record = one line. The line is the canonical JSON of the record without `hash`, with
// `"hash":"…"` appended as the last member; so the hashed text is the line minus that member, and
// checking a record costs one sha256 of bytes already in memory (no re-serialisation).
import { checkEvent, type EventType, RECORD_VERSION } from './events.js';
import { canonicalJson, isHash, sha256Hex } from './hash.js';

export interface LogRecord<T = unknown> {
  v: number;
  seq: number;
  time: string;
  type: EventType;
  network?: string;
  op?: string;
  data: T;
  prev: string;
  hash: string;
}

export type UnsealedRecord = Omit<LogRecord, 'hash'>;

// On disk a record is flat: the event's fields sit beside the envelope (seq, time, type, ...), so
// a program-run record carries `argv`, `stdin`, `exitCode`, `stdout`, ... at its top level, as
// the state-directory format fixes. In memory the event's fields are kept apart under `data`.
const ENVELOPE = new Set(['v', 'seq', 'time', 'type', 'network', 'op', 'prev', 'hash']);

export const flatRecord = (r: UnsealedRecord | LogRecord): Record<string, unknown> => {
  const { data, ...envelope } = r;
  return { ...(data as Record<string, unknown>), ...envelope };
};

const unflatten = (flat: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    if (ENVELOPE.has(k)) out[k] = v; else data[k] = v;
  }
  out.data = data;
  return out;
};

const HASH_SUFFIX_LEN = ',"hash":"'.length + 64 + '"}'.length;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

// Seals a record: computes its hash and the exact line (with '\n') that goes to disk.
export const sealRecord = (r: UnsealedRecord): { record: LogRecord; line: string } => {
  const body = canonicalJson(flatRecord(r));
  const hash = sha256Hex(body);
  return { record: { ...r, hash } as LogRecord, line: `${body.slice(0, -1)},"hash":"${hash}"}\n` };
};

// Why a line is not a good record. 'malformed' = not a record at all (what a torn write leaves);
// 'hash' = a well-formed record whose hash does not match its content (an edit).
export type LineProblem = { kind: 'malformed' | 'hash'; reason: string };
export type Decoded = { ok: true; record: LogRecord } | ({ ok: false } & LineProblem);

// Parses and checks one line (without its '\n'). `strict` also requires the line to be in canonical
// form, which is what `log verify` wants; open relies on the hash of the bytes.
export const decodeLine = (line: string, strict = false): Decoded => {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, kind: 'malformed', reason: 'not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, kind: 'malformed', reason: 'not a JSON object' };
  if ('data' in raw) return { ok: false, kind: 'malformed', reason: 'not a flat record (has a data member)' };
  const r = unflatten(raw as Record<string, unknown>);
  if (r.v !== RECORD_VERSION) return { ok: false, kind: 'malformed', reason: `unknown record version ${JSON.stringify(r.v)}` };
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return { ok: false, kind: 'malformed', reason: `seq: not a positive integer: ${JSON.stringify(r.seq)}` };
  if (typeof r.time !== 'string' || !ISO_TIME.test(r.time)) return { ok: false, kind: 'malformed', reason: `time: not an ISO 8601 time: ${JSON.stringify(r.time)}` };
  if (!isHash(r.prev)) return { ok: false, kind: 'malformed', reason: 'prev: not a sha256 hex digest' };
  if (!isHash(r.hash)) return { ok: false, kind: 'malformed', reason: 'hash: not a sha256 hex digest' };
  const problem = checkEvent({ type: r.type, network: r.network, op: r.op, data: r.data }, r.v);
  if (problem !== null) return { ok: false, kind: 'malformed', reason: problem };
  const record = r as unknown as LogRecord;
  const fast = line.length > HASH_SUFFIX_LEN && line.endsWith(`,"hash":"${record.hash}"}`);
  const body = fast ? `${line.slice(0, -HASH_SUFFIX_LEN)}}` : undefined;
  const bytesOk = body !== undefined && sha256Hex(body) === record.hash;
  if (bytesOk && !strict) return { ok: true, record };
  // Slow path: the documented definition (hash of the canonical form). Also accepts a line that
  // another tool re-serialised, as long as its content is unchanged.
  const { hash: _hash, ...rest } = record;
  if (sha256Hex(canonicalJson(flatRecord(rest))) !== record.hash) {
    const reason = bytesOk ? 'record is not in canonical form' : 'hash does not match the record (record was changed)';
    return { ok: false, kind: 'hash', reason };
  }
  return { ok: true, record };
};
