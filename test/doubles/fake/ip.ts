// The `ip` part of the fake kernel: network devices (bridges) with their addresses and settings.
import type { ProgramOutput } from './types.js';

export interface Link {
  name: string;
  ifindex: number;
  kind: string;
  up: boolean;
  mtu: number;
  address: string;
  stpState?: number;
  forwardDelay?: number;    // centiseconds, as iproute2 takes it
  addrs: string[];          // ADDR/PREFIX in the order added
  group?: string;           // link group (`ip link set ... group N`); 'default' when unset
}
export interface IpState { links: Link[]; nextIndex: number }

export const emptyIpState = (): IpState => ({
  links: [{ name: 'lo', ifindex: 1, kind: 'loopback', up: true, mtu: 65536, address: '00:00:00:00:00:00', addrs: ['127.0.0.1/8', '::1/128'] }],
  nextIndex: 2,
});

class IpError extends Error {
  constructor(message: string, readonly exitCode = 1) { super(message); }
}

const noDevice = (name: string) => new IpError(`Cannot find device "${name}"`);

function find(s: IpState, name: string | undefined): Link {
  const l = s.links.find((x) => x.name === name);
  if (!l) throw noDevice(name ?? '');
  return l;
}

// Values after keywords, e.g. `mtu 9000` -> opt(words, 'mtu') === '9000'.
const opt = (w: string[], key: string): string | undefined => {
  const i = w.indexOf(key);
  return i >= 0 ? w[i + 1] : undefined;
};

function linkJson(...ls: Link[]): string {
  return JSON.stringify(ls.map((l) => ({
    ifindex: l.ifindex, ifname: l.name,
    flags: l.kind === 'loopback' ? ['LOOPBACK', 'UP', 'LOWER_UP'] : ['BROADCAST', 'MULTICAST', ...(l.up ? ['UP'] : [])],
    mtu: l.mtu, qdisc: 'noqueue',
    operstate: l.up ? 'UNKNOWN' : 'DOWN', linkmode: 'DEFAULT', group: l.group ?? 'default', txqlen: 1000,
    link_type: l.kind === 'loopback' ? 'loopback' : 'ether', address: l.address, broadcast: 'ff:ff:ff:ff:ff:ff',
  })));
}

// A locally administered MAC derived from the ifindex, stable across runs.
const fakeMac = (i: number) => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;

function exec(s: IpState, args: string[]): string {
  const json = args.includes('-j') || args.includes('-json');
  // Global options (-j, -6, -d ...) all start with '-'; nothing we model takes a dashed value.
  const words = args.filter((a) => !a.startsWith('-'));
  const [object, verb = 'show', ...rest] = words;
  const dev = rest[0] === 'dev' || rest[0] === 'name' ? rest[1] : rest[0];
  if (object === 'link' && verb === 'add') {
    const typeAt = rest.indexOf('type');
    if (typeAt < 0) throw new IpError('Not enough information: "type" argument is required', 1);
    if (s.links.some((l) => l.name === dev)) throw new IpError('RTNETLINK answers: File exists', 2);
    const before = rest.slice(0, typeAt), after = rest.slice(typeAt + 2);
    const ifindex = s.nextIndex++;
    const stp = opt(after, 'stp_state'), delay = opt(after, 'forward_delay');
    s.links.push({
      name: dev ?? '', ifindex, kind: rest[typeAt + 1] ?? '', up: false,
      mtu: Number(opt(before, 'mtu') ?? 1500), address: opt(before, 'address') ?? fakeMac(ifindex), addrs: [],
      ...(stp !== undefined ? { stpState: Number(stp) } : {}),
      ...(delay !== undefined ? { forwardDelay: Number(delay) } : {}),
    });
    return '';
  }
  if (object === 'link' && (verb === 'del' || verb === 'delete') && rest[0] === 'group') {
    // Every link of the group at once, as the kernel does (none: ENODEV).
    const members = s.links.filter((x) => (x.group ?? 'default') === rest[1]);
    if (members.length === 0) throw new IpError('RTNETLINK answers: No such device', 2);
    s.links = s.links.filter((x) => !members.includes(x));
    return '';
  }
  if (object === 'link' && (verb === 'del' || verb === 'delete')) {
    const l = find(s, dev);
    s.links = s.links.filter((x) => x !== l);
    return '';
  }
  if (object === 'link' && verb === 'set') {
    const l = find(s, dev);
    if (rest.includes('up')) l.up = true;
    if (rest.includes('down')) l.up = false;
    const mtu = opt(rest, 'mtu'), mac = opt(rest, 'address'), group = opt(rest, 'group');
    if (group !== undefined) l.group = group;
    if (mtu !== undefined) l.mtu = Number(mtu);
    if (mac !== undefined) l.address = mac;
    return '';
  }
  if (object === 'link' && (verb === 'show' || verb === 'list')) {
    if (dev === undefined) return json ? `${linkJson(...s.links)}\n` : s.links.map((l) => `${l.ifindex}: ${l.name}: mtu ${l.mtu}\n`).join('');
    const l = s.links.find((x) => x.name === dev);
    if (!l) throw new IpError(`Device "${dev}" does not exist.`);
    return json ? `${linkJson(l)}\n` : `${l.ifindex}: ${l.name}: mtu ${l.mtu}\n`;
  }
  if ((object === 'addr' || object === 'address') && (verb === 'add' || verb === 'del')) {
    const cidr = rest[0] ?? '';
    const l = find(s, opt(rest, 'dev'));
    const has = l.addrs.includes(cidr);
    const fam = cidr.includes(':') ? 'ipv6' : 'ipv4';
    if (verb === 'add' && has) throw new IpError(`Error: ${fam}: Address already assigned.`, 2);
    if (verb === 'del' && !has) throw new IpError('Error: ipv4: Address not found.', 2);
    l.addrs = verb === 'add' ? [...l.addrs, cidr] : l.addrs.filter((a) => a !== cidr);
    return '';
  }
  throw new IpError(`Command "${verb}" is unknown, try "ip ${object ?? ''} help".`, 255);
}

// `ip [-force] -batch -`: one command per line, each applied as it runs (no transaction). The
// first failing line stops the batch (with -force: is reported and the batch goes on); ip names it
// as `Command failed -:N` and exits 1.
function batch(state: IpState, force: boolean, stdin: string): { output: ProgramOutput; state: IpState } {
  const next = structuredClone(state);
  let stderr = '';
  let failed = false;
  const lines = stdin.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    const words = line.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0 || words[0]?.startsWith('#') === true) continue;
    try {
      exec(next, words);
    } catch (e) {
      stderr += `${(e as IpError).message}\nCommand failed -:${i + 1}\n`;
      failed = true;
      if (!force) break;
    }
  }
  return { state: next, output: { exitCode: failed ? 1 : 0, stdout: '', stderr } };
}

export function runIp(args: string[], state: IpState, stdin?: string): { output: ProgramOutput; state: IpState } {
  const at = args.indexOf('-batch');
  if (at >= 0) return batch(state, args.includes('-force'), args[at + 1] === '-' ? stdin ?? '' : '');
  const next = structuredClone(state);
  try {
    return { state: next, output: { exitCode: 0, stdout: exec(next, args), stderr: '' } };
  } catch (e) {
    const err = e as IpError;
    return { state, output: { exitCode: err.exitCode ?? 1, stdout: '', stderr: `${err.message}\n` } };
  }
}

export function dumpIp(s: IpState): string {
  return s.links.filter((l) => l.kind !== 'loopback').sort((a, b) => a.name.localeCompare(b.name)).map((l) => {
    const stp = l.stpState !== undefined ? ` stp_state ${l.stpState}` : '';
    const fd = l.forwardDelay !== undefined ? ` forward_delay ${l.forwardDelay}` : '';
    return `${l.name} ${l.kind} ${l.up ? 'up' : 'down'} mtu ${l.mtu} address ${l.address}${stp}${fd}` +
      (l.addrs.length ? ` addrs ${l.addrs.join(',')}` : '') + '\n';
  }).join('');
}
