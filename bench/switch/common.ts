// Shared by the switch benchmark's driver (outside the namespaces) and its worker (inside one).
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

// Network i of the benchmark: libvirt's nat-ipv6 case renumbered.
export const netName = (i: number): string => `n${i}`;
export const bridgeName = (i: number): string => `vbr${i}`;
const v4 = (i: number): string => `10.${Math.floor(i / 250)}.${i % 250}`;
export const networkXml = (i: number): string => `<network>
  <name>${netName(i)}</name>
  <bridge name="${bridgeName(i)}"/>
  <forward/>
  <ip address="${v4(i)}.1" netmask="255.255.255.0">
    <dhcp>
      <range start="${v4(i)}.2" end="${v4(i)}.254"/>
    </dhcp>
  </ip>
  <ip family="ipv6" address="fd00:${i}::1" prefix="64" >
    <dhcp>
      <range start="fd00:${i}:0:0:1::10" end="fd00:${i}:0:0:1::ff" />
    </dhcp>
  </ip>
</network>
`;
// The bridges exist before any firewall work in every method (libvirt creates them outside its
// firewall code), so all methods measure the same thing: `ip -batch -` input creating them.
export const bridgesBatch = (indexes: readonly number[]): string => {
  let s = '';
  for (const i of indexes) {
    s += `link add ${bridgeName(i)} type bridge\naddr add ${v4(i)}.1/24 dev ${bridgeName(i)}\naddr add fd00:${i}::1/64 dev ${bridgeName(i)} nodad\nlink set ${bridgeName(i)} up\n`;
  }
  return s;
};

export interface RunResult { code: number; stdout: string; stderr: string; ms: number }

// One program, no shell; argv[0] looked up on PATH.
export const run = (argv: readonly string[], stdin?: string, env?: NodeJS.ProcessEnv): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], ...(env === undefined ? {} : { env }) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });

export const mustRun = async (argv: readonly string[], stdin?: string): Promise<RunResult> => {
  const r = await run(argv, stdin);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
  return r;
};

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// A phase: wall time and the programs it ran.
export interface Phase { ms: number; programs: number; note?: string }
export type WorkerResult = Record<string, Phase | number | string | boolean>;
