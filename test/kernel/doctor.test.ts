// Real kernel: `vnetfw doctor` tells the truth about neighbours laid down in the host namespace of
// a small topology (guest behind virbr0, a wan upstream; reachability is a TCP connection attempt): libvirt's default network started on
// nftables; with no neighbour nothing blocks (exit 0) and the guest reaches the wan; with Docker's
// FORWARD policy DROP it names the policy (exit 3) and the guest indeed reaches nothing; with
// accept rules for the bridge in DOCKER-USER (the integration's shape) it reports nothing again and
// the guest gets through. Also NixOS's `inet nixos-fw` and Debian's real firewalld (private D-Bus,
// inside the namespace), and `status --json`'s blockedBy.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  casesDir, cliBuilt, inNs, must, netnsSkipReason, nsDelAll, repoRoot, run, firewalldDown, firewalldUp, fwCmd, topoAttach, topoUp, vnet, waitFor, writeConf,
  type Firewalld, type Topo,
} from '../support/index.js';

const skipReason = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (run `npm run build`)');
const canRun = skipReason === undefined;
const hasFirewalld = spawnSync('sh', ['-c', 'command -v firewalld && command -v dbus-daemon && command -v firewall-cmd']).status === 0;
const neighbours = join(repoRoot, 'test', 'fixtures', 'doctor');

interface Finding { network: string; traffic: string; verdict: string; family: string; table: string; chain: string; policy?: string; owner: string | null; action: string }

describe.skipIf(!canRun)(`doctor on a real kernel${canRun ? '' : ` (skipped: ${skipReason ?? ''})`}`, () => {
  const tmp = canRun ? mkdtempSync(join(tmpdir(), 'vnetfw-doctor-')) : '';
  let n = 0;
  let fwd: Firewalld | undefined;
  afterEach(async () => { if (fwd !== undefined) await firewalldDown(fwd); fwd = undefined; await nsDelAll(); });
  afterAll(() => { if (tmp !== '') rmSync(tmp, { recursive: true, force: true }); });

  // A started default network with the guest plugged in and reaching the wan.
  const started = async (): Promise<{ t: Topo; cli: (args: string[]) => ReturnType<typeof vnet> }> => {
    const t = await topoUp(`doc${++n}`);
    // as on a real host, a default route: the doctor takes its interface as the guests' uplink
    await must(inNs(t.H, ['ip', 'route', 'add', 'default', 'via', '10.200.0.2']), 'default route');
    const dir = join(tmp, String(n));
    const conf = writeConf(`${dir}.conf`, 'nftables');
    const cli = (args: string[]): ReturnType<typeof vnet> => vnet(t.H, join(dir, 'state'), conf, args);
    await must(cli(['define', join(casesDir, 'nat-default.xml')]), 'define');
    await must(cli(['start', 'default']), 'start');
    await topoAttach(t, 'virbr0');
    return { t, cli };
  };
  // A TCP connection attempt from the guest to a closed port of the wan: refused (the wan's RST came
  // back through the masquerade) means through; a timeout means dropped on the way.
  const REACH = 'import socket,sys\ntry: socket.create_connection(("10.200.0.2", 9), timeout=1)\nexcept ConnectionRefusedError: sys.exit(0)\nexcept OSError: sys.exit(1)';
  const reach = (t: Topo): ReturnType<typeof inNs> => inNs(t.G, ['python3', '-c', REACH]);
  const guestReachesWan = (t: Topo): Promise<boolean> => reach(t).then((r) => r.code === 0);
  const findings = (stdout: string): Finding[] => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Finding);
  const brief = (f: Finding): string => `${f.traffic} ${f.verdict} ${f.family} ${f.table} ${f.chain} ${f.policy ?? 'rule'} ${f.owner ?? '-'} ${f.action}`;

  it('no neighbour: exit 0; Docker FORWARD DROP: exit 3 naming it, and the guest is cut off; DOCKER-USER accept rules: exit 0 and through', async () => {
    const { t, cli } = await started();
    await waitFor(() => reach(t), 15_000, 'the guest to reach the wan');
    const clean = await cli(['doctor']);
    expect([clean.code, clean.stdout.trim()], clean.stderr).toEqual([0, 'default (virbr0): nothing blocks its traffic']);
    const st0 = JSON.parse((await must(cli(['--json', 'status', 'default']), 'status')).stdout) as { blockedBy: unknown[] };
    expect(st0.blockedBy).toEqual([]);

    await must(run(['ip', 'netns', 'exec', t.H, 'iptables-restore', '--noflush', join(neighbours, 'docker27.rules')]), 'lay down Docker');
    const blocked = await cli(['--json', 'doctor', 'default']);
    expect(blocked.code, blocked.stderr).toBe(3);
    const got = findings(blocked.stdout);
    expect(got.map(brief)).toEqual(['guest-out', 'reply-in', 'guest-guest'].map((tr) => `${tr} drop ip filter FORWARD drop Docker integrate`));
    expect(await guestReachesWan(t)).toBe(false);
    const st1 = JSON.parse((await must(cli(['--json', 'status', 'default']), 'status')).stdout) as { blockedBy: Finding[] };
    expect(st1.blockedBy.map(brief)).toEqual(got.map(brief));

    // What integration leaves in Docker's documented place: the doctor sees the traffic pass.
    for (const rule of [
      ['-I', 'DOCKER-USER', '-o', 'virbr0', '-d', '192.168.122.0/24', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
      ['-I', 'DOCKER-USER', '-i', 'virbr0', '-s', '192.168.122.0/24', '-j', 'ACCEPT'],
      ['-I', 'DOCKER-USER', '-i', 'virbr0', '-o', 'virbr0', '-j', 'ACCEPT'],
    ]) await must(inNs(t.H, ['iptables', '-w', ...rule]), `iptables ${rule.join(' ')}`);
    const after = await cli(['doctor']);
    expect([after.code, after.stdout.trim()], after.stderr).toEqual([0, 'default (virbr0): nothing blocks its traffic']);
    expect(await guestReachesWan(t)).toBe(true);
  });

  it('NixOS inet nixos-fw (input and forward policy drop): new flows, DHCP and DNS named, left alone by default', async () => {
    const { t, cli } = await started();
    await must(inNs(t.H, ['nft', '-f', join(neighbours, 'nixos-fw.nft')]), 'lay down nixos-fw');
    const r = await cli(['--json', 'doctor']);
    expect(r.code, r.stderr).toBe(3);
    expect(findings(r.stdout).map(brief)).toEqual([
      'guest-out drop inet nixos-fw forward drop NixOS nixos-fw report',
      'guest-guest drop inet nixos-fw forward drop NixOS nixos-fw report',
      'dns-in drop inet nixos-fw input drop NixOS nixos-fw report',
      'dhcp-in drop inet nixos-fw input drop NixOS nixos-fw report',
    ]);
    expect(await guestReachesWan(t)).toBe(false);
  });

  it.skipIf(!hasFirewalld)(`real firewalld (default zone public) rejects; the bridge in vnetfw's zone (libvirt's policy) passes${hasFirewalld ? '' : ' (skipped: firewalld/dbus not installed)'}`, async () => {
    const { t, cli } = await started();
    fwd = await firewalldUp(t.H, join(tmp, `fwd${n}`), { zones: { vnetfw: readFileSync(join(neighbours, 'vnetfw-zone.xml'), 'utf8') } });
    const r = await cli(['doctor']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain('guest -> outside (ipv4/tcp+udp): rejected by inet firewalld filter_FORWARD -> filter_FWD_public');
    expect(r.stdout).toContain('guest -> host DHCP (ipv4/udp): rejected by inet firewalld filter_INPUT -> filter_IN_public');
    expect(r.stdout).toContain('[firewalld]');
    await must(fwCmd(fwd, ['--zone=vnetfw', '--add-interface=virbr0']), 'virbr0 into zone vnetfw');
    const ok = await cli(['doctor']);
    expect([ok.code, ok.stdout.trim()], ok.stderr).toEqual([0, 'default (virbr0): nothing blocks its traffic']);
  });
});
