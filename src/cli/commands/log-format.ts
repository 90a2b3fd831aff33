// How `vnetfw log` shows records to people: one table row per record with a one-line summary.
import type { EventData, LogRecord } from '../../../state/index.js';
import { shellQuoteWord } from '../../exec/quote.js';

type D<K extends keyof EventData> = EventData[K];

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ⏎ ').trim();
const short = (op: string | undefined): string => (op === undefined ? '' : ` [op ${op.length > 12 ? op.slice(0, 8) : op}]`);

export const summary = (r: LogRecord): string => {
  switch (r.type) {
    case 'network.defined': {
      const { definition: d } = r.data as D<'network.defined'>;
      return `bridge ${d.bridge.name}, forward ${d.forward.mode}, ${d.ips.map((ip) => `${ip.address}/${ip.prefix}`).join(' ') || 'no addresses'}`;
    }
    case 'operation.started': {
      const d = r.data as D<'operation.started'>;
      const backends = d.from !== undefined && d.to !== undefined ? ` ${d.from} -> ${d.to}` : d.to !== undefined ? ` on ${d.to}` : d.from !== undefined ? ` from ${d.from}` : '';
      return `${d.kind}${backends}${d.strategy === undefined ? '' : ` (${d.strategy})`}${short(r.op)}`;
    }
    case 'operation.committed': {
      const d = r.data as D<'operation.committed'>;
      return `${d.backend === undefined ? 'committed' : `committed on ${d.backend}`}${short(r.op)}`;
    }
    case 'operation.rolled-back':
    case 'operation.failed':
      return `${oneLine((r.data as D<'operation.failed'>).reason)}${short(r.op)}`;
    case 'command.intended': {
      const d = r.data as D<'command.intended'>;
      const stdin = d.stdin === undefined ? '' : ` <<stdin (${d.stdin.split('\n').filter((l) => l !== '').length} lines)`;
      return `#${d.step} ${d.purpose}: ${d.argv.map(shellQuoteWord).join(' ')}${stdin}`;
    }
    case 'command.finished': {
      const d = r.data as D<'command.finished'>;
      const how = d.signal !== undefined ? `killed by ${d.signal}` : d.timedOut === true ? 'timed out' : `exit ${d.exitCode}`;
      const err = d.exitCode !== 0 && d.stderr.trim() !== '' ? `: ${oneLine(d.stderr).slice(0, 160)}` : '';
      const cut = d.stdoutSha256 !== undefined || d.stderrSha256 !== undefined ? ' (output kept as sha256)' : d.truncated === true ? ' (output truncated)' : '';
      return `#${d.step} ${how} in ${Math.round(d.durationMs)} ms${cut}${err}`;
    }
    case 'removal.recorded': {
      const { removal } = r.data as D<'removal.recorded'>;
      const n = removal.groups.reduce((a, g) => a + g.commands.length, 0);
      return `${removal.backend}: ${n} undo command${n === 1 ? '' : 's'}`;
    }
    case 'removal.cleared':
      return `${(r.data as D<'removal.cleared'>).backend} rules removed`;
    case 'network.transition': {
      const d = r.data as D<'network.transition'>;
      return `${d.from} -> ${d.to}${d.event === '' ? '' : ` (${d.event})`}`;
    }
    case 'bridge.created':
    case 'bridge.deleted':
      return (r.data as D<'bridge.created'>).bridge;
    case 'setup.recorded':
      return `${(r.data as D<'setup.recorded'>).backend} private set-up in place`;
    case 'host.sysctl': {
      const d = r.data as D<'host.sysctl'>;
      return `${d.key} = ${d.value}${d.previous === undefined ? '' : ` (was ${d.previous})`}`;
    }
    case 'config.changed': {
      const d = r.data as D<'config.changed'>;
      return `backend ${d.backend}, ${d.strategy} (${d.path})`;
    }
    case 'config.invalid': {
      const d = r.data as D<'config.invalid'>;
      return `${d.error} (daemon uses ${d.using})`;
    }
    case 'config.restored':
      return `${(r.data as D<'config.restored'>).path} is valid again`;
    case 'drift.found': {
      const d = r.data as D<'drift.found'>;
      return `${d.missing.length} missing, ${d.foreign.length} foreign`;
    }
    case 'log.repaired': {
      const d = r.data as D<'log.repaired'>;
      return `${d.bytes} torn bytes moved to ${d.quarantine}: ${d.reason}`;
    }
    case 'snapshot.written':
      return `state saved as a snapshot at this seq (digest ${(r.data as D<'snapshot.written'>).digest.slice(0, 12)}…)`;
    case 'log.checkpoint': {
      const d = r.data as D<'log.checkpoint'>;
      return `checkpoint: seq ${d.from}..${d.through} were dropped (hash of seq ${d.through} ${d.lastHash.slice(0, 12)}…), the state as of then kept`;
    }
    case 'libvirt.hook': {
      const d = r.data as D<'libvirt.hook'>;
      return `libvirt: ${d.libvirtOp} ${d.libvirtSubop} -> ${d.action}`;
    }
    case 'lock.recovered':
      return `stale lock of dead pid ${(r.data as D<'lock.recovered'>).pid} taken over`;
    default:
      return '';
  }
};

export const HEADER = `${'SEQ'.padStart(7)}  ${'TIME'.padEnd(24)}  ${'NETWORK'.padEnd(12)}  ${'TYPE'.padEnd(21)}  SUMMARY`;

export const row = (r: LogRecord): string =>
  `${String(r.seq).padStart(7)}  ${r.time.padEnd(24)}  ${(r.network ?? '-').padEnd(12)}  ${r.type.padEnd(21)}  ${summary(r)}`.trimEnd();
