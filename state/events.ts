// The event types of the log and their schemas. The engine emits exactly these; a record's `v` is
// the version of its envelope and data shapes, so that a future v2 can change a shape while v1
// records stay readable (readRecordData upgrades them). Validators run on append and on read.
import type { NetworkDef } from '../src/definition/types.js';
import type { Backend, FwCommand, FwRemoval } from '../src/firewall/model.js';
import type { IntegrationStep } from '../src/firewall/neighbours/model.js';
import {
  arrOf, bool, type Check, type Checked, checkAt, int, nat, nonEmpty, num, obj, oneOf, opt, SchemaError, shape, shapeAs, str,
} from './check.js';
import { isHash, sha256Hex } from './hash.js';

export const RECORD_VERSION = 1;

export const OPERATION_KINDS = ['start', 'stop', 'switch', 'repair', 'recover', 'undefine', 'adopt'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];
export const COMMAND_PURPOSES = ['apply', 'remove', 'query', 'host', 'rollback'] as const;
export type CommandPurpose = (typeof COMMAND_PURPOSES)[number];

// stdout/stderr above this many bytes are cut (and `truncated: true` set) when appended.
export const OUTPUT_LIMIT_BYTES = 64 * 1024;

const backend: Check<Backend> = oneOf(['iptables', 'nftables', 'nftables-indexed']);
const fwCommand: Check<FwCommand> = shapeAs<FwCommand>({ program: oneOf(['iptables', 'ip6tables', 'nft', 'tc']), args: arrOf(str), 'ignoreErrors?': bool });
const fwRemoval: Check<FwRemoval> = shapeAs<FwRemoval>({
  backend, groups: arrOf(shape({ ignoreErrors: bool, commands: arrOf(fwCommand) })),
});
const networkDef: Check<NetworkDef> = shapeAs<NetworkDef>({
  name: nonEmpty,
  'uuid?': str,
  bridge: shape({ name: str, stp: bool, delay: num, 'zone?': str }),
  forward: shape({ mode: oneOf(['none', 'nat', 'route', 'open']), 'dev?': str, 'nat?': obj }),
  ipv6: bool,
  ips: arrOf(shape({ family: oneOf(['ipv4', 'ipv6']), address: str, prefix: int, dhcpRanges: arrOf(obj), dhcpHosts: arrOf(obj) })),
});
const integrationStep: Check<IntegrationStep> = shapeAs<IntegrationStep>({
  id: nonEmpty, neighbour: oneOf(['firewalld', 'docker', 'host-nft']), argv: arrOf(str), undo: arrOf(arrOf(str)),
  'check?': arrOf(str), 'handle?': nat, 'shared?': str, 'nftChain?': shape({ family: str, table: str, chain: str }), 'marker?': str,
});
const sha256: Check<string> = (v) => { if (!isHash(v)) throw new SchemaError('', `expected a sha256 hex digest, got ${JSON.stringify(v)}`); return v; };
const none: Check<Record<string, never>> = obj as Check<Record<string, never>>;
const reason = shape({ reason: str });
const bridge = shape({ bridge: nonEmpty });

// Every event type, declared once: where it belongs ('network' = the record must name its network,
// 'op' = and its operation) and its data's schema, from which its TypeScript type is inferred.
type Scope = 'none' | 'network' | 'op';
const v1 = {
  'network.defined': { scope: 'network', data: shape({ definition: networkDef, xml: str }) },
  'network.undefined': { scope: 'network', data: none },
  'operation.started': { scope: 'op', data: shape({ kind: oneOf(OPERATION_KINDS), 'from?': backend, 'to?': backend, 'strategy?': str }) },
  'operation.committed': { scope: 'op', data: shape({ 'backend?': backend }) },
  'operation.rolled-back': { scope: 'op', data: reason },
  'operation.failed': { scope: 'op', data: reason },
  // Commands outside an operation exist (verify's queries), so network/op are optional here.
  // `networks`: every network a shared batch serves.
  'command.intended': {
    scope: 'none',
    data: shape({
      step: nat, argv: arrOf(str), 'stdin?': str, 'commands?': arrOf(fwCommand), purpose: oneOf(COMMAND_PURPOSES), 'undo?': arrOf(fwCommand),
      'networks?': arrOf(str), 'integration?': integrationStep,
    }),
  },
  // argv/stdin repeat the intended command's (runStep writes them), so each finished record
  // alone says what ran and how it ended. A query that found nothing keeps only a digest of its
  // output: stdout/stderr empty, `stdoutSha256`/`stderrSha256` and the sizes in bytes (see
  // digestOutput).
  'command.finished': {
    scope: 'none',
    data: shape({
      step: nat, exitCode: int, stdout: str, stderr: str, durationMs: num,
      'signal?': str, 'timedOut?': bool, 'truncated?': bool, 'stdoutBytes?': nat, 'stderrBytes?': nat, 'argv?': arrOf(str), 'stdin?': str,
      'networks?': arrOf(str), 'stdoutSha256?': sha256, 'stderrSha256?': sha256,
    }),
  },
  'removal.recorded': { scope: 'network', data: shape({ removal: fwRemoval }) },
  'removal.cleared': { scope: 'network', data: shape({ backend }) },
  // A neighbour integration step in place (firewalld zone, Docker accept rule, host nft rule) with
  // its removal; `integration.removed`: it is gone, or handed to network `to` (a shared step).
  'integration.recorded': { scope: 'network', data: shape({ step: integrationStep }) },
  'integration.removed': { scope: 'network', data: shape({ id: nonEmpty, 'to?': nonEmpty }) },
  // The machine's states as plain strings (not checked against a list), so a machine that grows a
  // state does not make its records unreadable.
  'network.transition': { scope: 'network', data: shape({ from: str, to: nonEmpty, event: str }) },
  'bridge.created': { scope: 'network', data: bridge },
  'bridge.deleted': { scope: 'network', data: bridge },
  'host.sysctl': { scope: 'none', data: shape({ key: nonEmpty, value: str, 'previous?': str }) },
  // The private set-up of `backend` (libvirt's chains or tables that every network's rules hang
  // off) was in place when an operation committed rules there. vnetfw takes a set-up back only in
  // the operation that added it, when that fails, so later applies there read nothing first.
  'setup.recorded': { scope: 'none', data: shape({ backend }) },
  'config.changed': { scope: 'none', data: shape({ backend, strategy: str, path: str }) },
  // The daemon found network.conf invalid and went on with `using` (its last good configuration, the
  // one recorded in the log, or none: drift repair only); config.restored when it is valid again.
  'config.invalid': { scope: 'none', data: shape({ path: str, error: str, using: str }) },
  'config.restored': { scope: 'none', data: shape({ path: str }) },
  'drift.found': { scope: 'none', data: shape({ missing: arrOf(str), foreign: arrOf(str) }) },
  'drift.repaired': { scope: 'none', data: none },
  // libvirt ran vnetfw as its network hook (`NAME OP SUBOP`) for a network vnetfw has defined; the
  // action it took follows as an operation of its own.
  'libvirt.hook': { scope: 'network', data: shape({ libvirtOp: nonEmpty, libvirtSubop: str, action: oneOf(['start', 'stop', 'none']) }) },
  'log.repaired': { scope: 'none', data: shape({ quarantine: str, bytes: nat, reason: str }) },
  // A stale writer lock (its process gone) was taken over at open.
  'lock.recovered': { scope: 'none', data: shape({ pid: int }) },
  // The writer is about to save a snapshot of the state as of this record: `digest` is the sha256
  // of the state's canonical JSON without seq and hash. A snapshot file is used only at a record of
  // this type whose digest its state matches, so an edited snapshot is never trusted over the log.
  'snapshot.written': { scope: 'none', data: shape({ digest: str }) },
  // The first line of a compacted log (`vnetfw log compact`): it stands for the dropped records
  // `from`..`through` (its own seq is `through`), `lastHash` is the hash of record `through`, from
  // which the chain continues, and `state` is the projection folded up to `through`. The record
  // after it is always a snapshot.written whose digest attests that state (see state/compact.ts).
  'log.checkpoint': { scope: 'none', data: shape({ from: nat, through: nat, lastHash: sha256, state: obj }) },
} as const satisfies Record<string, { scope: Scope; data: Check<unknown> }>;

export type EventType = keyof typeof v1;
export const EVENT_TYPES = Object.keys(v1) as EventType[];
export type EventData = { [K in EventType]: Checked<(typeof v1)[K]['data']> };

export interface NewEvent<K extends EventType = EventType> {
  type: K;
  network?: string;
  op?: string;
  data: K extends EventType ? EventData[K] : unknown;
}

// Builds a typed event: `event('bridge.created', { bridge: 'virbr0' }, { network: 'default' })`.
export const event = <K extends EventType>(type: K, data: EventData[K], where: { network?: string; op?: string } = {}): NewEvent<K> =>
  ({ type, ...where, data } as NewEvent<K>);

export const isEventType = (t: unknown): t is EventType => typeof t === 'string' && (EVENT_TYPES as readonly string[]).includes(t);

// Checks an event's type, scope and data; returns a message naming the field at fault, or null.
export const checkEvent = (e: { type: unknown; network?: unknown; op?: unknown; data: unknown }, v = RECORD_VERSION): string | null => {
  if (v !== 1) return `unknown record version ${JSON.stringify(v)}`;
  if (!isEventType(e.type)) return `type: unknown event type ${JSON.stringify(e.type)}`;
  const spec: { scope: Scope; data: Check<unknown> } = v1[e.type];
  try {
    checkAt(opt(nonEmpty), e.network, 'network');
    checkAt(opt(nonEmpty), e.op, 'op');
    if (spec.scope !== 'none' && e.network === undefined) return `network: ${e.type} needs the network it belongs to`;
    if (spec.scope === 'op' && e.op === undefined) return `op: ${e.type} needs the operation it belongs to`;
    checkAt(spec.data, e.data, 'data');
    if (e.type === 'network.defined' && (e.data as EventData['network.defined']).definition.name !== e.network) {
      return `data.definition.name: ${JSON.stringify((e.data as EventData['network.defined']).definition.name)} is not the record's network ${JSON.stringify(e.network)}`;
    }
  } catch (err) {
    if (err instanceof SchemaError) return err.message;
    throw err;
  }
  return null;
};

// Cuts a string to at most `limit` UTF-8 bytes without splitting a character.
const cut = (s: string, limit: number): { text: string; bytes: number } | null => {
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes <= limit) return null;
  let text = Buffer.from(s, 'utf8').subarray(0, limit).toString('utf8');
  if (text.endsWith('\uFFFD')) text = text.slice(0, -1);
  return { text, bytes };
};

// What append() stores for an event: program output is cut to OUTPUT_LIMIT_BYTES.
export const normalizeEvent = (e: NewEvent): NewEvent => {
  if (e.type !== 'command.finished') return e;
  const d = e.data as EventData['command.finished'];
  const out = cut(d.stdout, OUTPUT_LIMIT_BYTES);
  const err = cut(d.stderr, OUTPUT_LIMIT_BYTES);
  if (out === null && err === null) return e;
  const data: EventData['command.finished'] = { ...d, truncated: true };
  if (out !== null) { data.stdout = out.text; data.stdoutBytes = out.bytes; }
  if (err !== null) { data.stderr = err.text; data.stderrBytes = err.bytes; }
  return { ...e, data };
};

// A query's result as the log keeps it when the query found nothing worth auditing: each non-empty
// output replaced by its sha256 (of its UTF-8 bytes) and byte length, `truncated` set (the output
// was cut to nothing). The exit code, duration and argv stay; an empty output stays as it is.
export const digestOutput = (d: EventData['command.finished']): EventData['command.finished'] => {
  if (d.stdout === '' && d.stderr === '') return d;
  const data: EventData['command.finished'] = { ...d, truncated: true };
  if (d.stdout !== '') { data.stdout = ''; data.stdoutBytes = Buffer.byteLength(d.stdout, 'utf8'); data.stdoutSha256 = sha256Hex(d.stdout); }
  if (d.stderr !== '') { data.stderr = ''; data.stderrBytes = Buffer.byteLength(d.stderr, 'utf8'); data.stderrSha256 = sha256Hex(d.stderr); }
  return data;
};
