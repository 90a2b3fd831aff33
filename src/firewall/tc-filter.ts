// The newest libvirt's DHCP checksum filter on a bridge, as `verify` looks for it: the filter its
// recorded removal (`tc filter del dev BR prio 2 protocol ip parent 1: u32 ...`) would delete.
// That removal names the filter by device, parent, priority, protocol and kind; the match on UDP
// destination port 68 (u32 key 0x44/0xffff at offset 20) tells it from another u32 filter there.
import type { FwCommand } from './model.js';
import { tcChecksumFilter } from './removal-shape.js';

// The filters under the bridge's root qdisc 1:, as JSON. Exit 0 and [] when there are none (or no
// such qdisc); non-zero when the device does not exist.
export const tcFilterShow = (bridge: string): string[] => ['tc', '-j', 'filter', 'show', 'dev', bridge, 'parent', '1:'];

// The bridge of a recorded tc removal of libvirt's checksum filter, or undefined for any other command.
export const checksumFilterBridge = (cmd: FwCommand): string | undefined => {
  if (cmd.program !== 'tc') return undefined;
  const bridge = cmd.args[3] ?? '';
  const want = tcChecksumFilter('del', bridge);
  return cmd.args.length === want.length && cmd.args.every((a, i) => a === want[i]) ? bridge : undefined;
};

// How the filter is written back into a drift report: the command that added it.
export const checksumFilterAdd = (bridge: string): string => `tc ${tcChecksumFilter('add', bridge).join(' ')}`;

interface TcFilter { protocol?: unknown; pref?: unknown; kind?: unknown; options?: { match?: { value?: unknown; mask?: unknown; off?: unknown } } }

// Whether `tc -j filter show` output holds the checksum filter. Output that is not tc's JSON list
// is an error (the caller cannot tell either way).
export const hasChecksumFilter = (json: string): boolean => {
  const list: unknown = JSON.parse(json.trim() === '' ? '[]' : json);
  if (!Array.isArray(list)) throw new Error('tc -j filter show: not a JSON list');
  return (list as TcFilter[]).some((f) => f.protocol === 'ip' && f.pref === 2 && f.kind === 'u32'
    && f.options?.match?.value === '44' && f.options.match.mask === 'ffff' && f.options.match.off === 20);
};
