// The demo's shared context: where its files live, how it runs the real CLI inside the host
// namespace, and the measurements the steps fill in (printed as JSON with --json).
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Narrator } from './narrative.js';
import { run, type ProcResult } from './proc.js';
import type { Topology } from './topology.js';
import { inNs } from './traffic.js';

// libvirt's stock `default` network, as shipped in /etc/libvirt/qemu/networks/default.xml.
export const DEFAULT_NETWORK_XML = `<network>
  <name>default</name>
  <bridge name="virbr0"/>
  <forward mode="nat"/>
  <ip address="192.168.122.1" netmask="255.255.255.0">
    <dhcp>
      <range start="192.168.122.2" end="192.168.122.254"/>
    </dhcp>
  </ip>
</network>
`;

// The checkout's root, found by walking up from this module: it is src/demo/ when run from
// source and dist/src/demo/ when run from the build, so a fixed '../..' would be wrong for one.
export const repoRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'vnetfw.js')) || !existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('demo: cannot find the vnetfw checkout (bin/vnetfw.js) above this module');
    dir = up;
  }
  return dir;
};

export interface StepRecord { name: string; ok: boolean; ms: number; detail: string }
export interface SwitchRecord { to: string; ms: number; exitCode: number | null; pingsLostSoFar: number }

export interface Measurements {
  ok: boolean;
  durationMs: number;
  steps: StepRecord[];
  masquerade: { wanSawSource: string | null; expected: string };
  pings: { sent: number; lost: number };
  tcp: { sent: number; echoed: number; broke: boolean; error: string | null };
  switches: SwitchRecord[];
  crash: { killedAtCall: number; killedAfter: string | null; killed: boolean; recovered: boolean; rulesetMatches: boolean; verifyOk: boolean; pingsSent: number; pingsLost: number };
  log: { records: number; programRuns: number; verifyOk: boolean };
  error?: string;
}

export const emptyMeasurements = (): Measurements => ({
  ok: false, durationMs: 0, steps: [],
  masquerade: { wanSawSource: null, expected: '' },
  pings: { sent: 0, lost: 0 },
  tcp: { sent: 0, echoed: 0, broke: true, error: null },
  switches: [],
  crash: { killedAtCall: 0, killedAfter: null, killed: false, recovered: false, rulesetMatches: false, verifyOk: false, pingsSent: 0, pingsLost: 0 },
  log: { records: 0, programRuns: 0, verifyOk: false },
});

export class World {
  readonly stateDir: string;
  readonly configPath: string;
  readonly cliPath = join(repoRoot(), 'bin', 'vnetfw.js');
  reference: Promise<boolean> | undefined; // the uninterrupted run step 4 compares with

  constructor(readonly t: Topology, readonly tmp: string, readonly say: Narrator, readonly m: Measurements) {
    this.stateDir = join(tmp, 'state');
    this.configPath = join(tmp, 'network.conf');
  }

  // The real CLI, as a user would run it, inside namespace ns (the host by default).
  cli(args: readonly string[], opts: { ns?: string; stateDir?: string; configPath?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProcResult> {
    const argv = [process.execPath, this.cliPath, '--state-dir', opts.stateDir ?? this.stateDir, '--config', opts.configPath ?? this.configPath, ...args];
    return run(inNs(opts.ns ?? this.t.H, argv), opts.env === undefined ? {} : { env: opts.env });
  }

  setBackend(backend: 'nftables' | 'iptables', path = this.configPath): void {
    writeFileSync(path, `# written by vnetfw demo\nfirewall_backend = "${backend}"\n`);
  }
}
