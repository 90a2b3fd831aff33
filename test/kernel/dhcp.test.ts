// Real kernel, real programs: a guest gets its address from dnsmasq (Debian's, as libvirt runs it
// on the bridge) with busybox's udhcpc, through vnetfw's rules on a host that drops what it does
// not accept:
// - iptables: the host's INPUT policy is DROP; libvirt's LIBVIRT_INP rule for DHCP lets the guest's
//   DISCOVER in. Without that rule the guest gets no lease; `vnetfw reconcile` puts the rule back
//   and the guest gets one again.
// - nftables: a NixOS-like `inet nixos-fw` table (input policy drop); with host_firewall =
//   "integrate" written, vnetfw's rules in that table let DHCP in (an accept in libvirt's own table
//   cannot: every base chain of the hook must accept). With "off", the guest gets no lease.
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bg, cliBuilt, inNs, IP, ipOk, must, netnsSkipReason, nsAdd, nsDelAll, uniqueTag, vnet, which, writeConf, type Backend, type Bg,
} from '../support/index.js';
import { layNixos } from '../fixtures/neighbours/neighbours.js';

const missing = ['busybox', 'dnsmasq'].filter((p) => which(p) === undefined);
const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)')
  ?? (missing.length > 0 ? `${missing.join(', ')} not installed` : undefined);

const RANGE = ['192.168.150.100', '192.168.150.120'] as const;
const XML = `<network>
  <name>dh</name>
  <bridge name="vdh0"/>
  <forward/>
  <ip address="192.168.150.1" netmask="255.255.255.0">
    <dhcp><range start="${RANGE[0]}" end="${RANGE[1]}"/></dhcp>
  </ip>
</network>
`;

interface World { H: string; G: string; st: string; conf: string; dnsmasq: Bg }

describe.skipIf(skip !== undefined)(`DHCP through vnetfw's rules: dnsmasq and a guest's udhcpc${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  let tmp = '';
  let script = '';
  const worlds: World[] = [];
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'vnetfw-dhcp-'));
    // udhcpc calls it with "bound" and the lease in $ip; the guest's interface is left as it is.
    script = join(tmp, 'udhcpc.sh');
    writeFileSync(script, '#!/bin/sh\n[ "$1" = bound ] && echo "LEASE $ip"\nexit 0\n');
    chmodSync(script, 0o755);
  });
  afterAll(async () => {
    for (const w of worlds) { w.dnsmasq.kill(); await w.dnsmasq.done; }
    await nsDelAll();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  // Host H with the network started (its firewall as `lay` leaves it), guest G plugged into the
  // bridge, dnsmasq serving the range on the bridge as libvirt runs it.
  const setUp = async (backend: Backend, lay: (H: string) => Promise<void>, extraConf: string): Promise<World> => {
    const p = uniqueTag('dh');
    const H = await nsAdd(`${p}H`);
    const G = await nsAdd(`${p}G`);
    await ipOk(['link', 'add', `${p}gh`, 'netns', H, 'type', 'veth', 'peer', 'name', 'g0', 'netns', G]);
    await ipOk(['-n', G, 'link', 'set', 'g0', 'up']);
    await lay(H);
    const st = join(tmp, `${p}-state`);
    const conf = writeConf(join(tmp, `${p}.conf`), backend, extraConf);
    const xml = join(tmp, `${p}.xml`);
    writeFileSync(xml, XML);
    await must(vnet(H, st, conf, ['define', xml]), 'define');
    await must(vnet(H, st, conf, ['start', 'dh']), 'start');
    await ipOk(['-n', H, 'link', 'set', `${p}gh`, 'master', 'vdh0']);
    await ipOk(['-n', H, 'link', 'set', `${p}gh`, 'up']);
    const dnsmasq = bg([IP, 'netns', 'exec', H, 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--bind-interfaces',
      '--interface=vdh0', '--except-interface=lo', `--dhcp-range=${RANGE[0]},${RANGE[1]}`, `--dhcp-leasefile=${join(tmp, `${p}.leases`)}`,
      `--pid-file=${join(tmp, `${p}.pid`)}`, '--dhcp-authoritative']);
    const w = { H, G, st, conf, dnsmasq };
    worlds.push(w);
    return w;
  };

  // One DHCP exchange from the guest: the address leased, or undefined when none came within
  // `tries` seconds. The bridge's new port forwards only after STP's learning (a few seconds), so
  // the first exchange is given time.
  const lease = async (w: World, tries: number): Promise<string | undefined> => {
    expect(w.dnsmasq.running(), `dnsmasq: ${w.dnsmasq.err()}`).toBe(true);
    const r = await inNs(w.G, ['busybox', 'udhcpc', '-i', 'g0', '-n', '-q', '-f', '-t', String(tries), '-T', '1', '-s', script], { timeoutMs: (tries + 10) * 1000 });
    return /^LEASE (\S+)$/m.exec(r.stdout)?.[1];
  };
  const inRange = expect.stringMatching(/^192\.168\.150\.1[01]\d$|^192\.168\.150\.120$/);

  it('iptables, host INPUT policy DROP: leased through LIBVIRT_INP; gone without that rule; back after reconcile', async () => {
    const w = await setUp('iptables', async (H) => { await must(inNs(H, ['iptables', '-P', 'INPUT', 'DROP']), 'INPUT DROP'); }, '');
    expect(await lease(w, 20)).toEqual(inRange);

    await must(inNs(w.H, ['iptables', '-D', 'LIBVIRT_INP', '-i', 'vdh0', '-p', 'udp', '-m', 'udp', '--dport', '67', '-j', 'ACCEPT']), 'delete the DHCP rule');
    expect(await lease(w, 3)).toBeUndefined();

    const r = await must(vnet(w.H, w.st, w.conf, ['reconcile']), 'reconcile');
    expect(r.stdout).toMatch(/dh: repaired drift \(1 missing, 0 foreign\)/);
    expect(await lease(w, 5)).toEqual(inRange);
  });

  it('nftables, NixOS-like inet nixos-fw: leased with host_firewall = "integrate" written, not with "off"', async () => {
    const on = await setUp('nftables', layNixos, 'host_firewall = "integrate"\n');
    expect(await lease(on, 20)).toEqual(inRange);

    const off = await setUp('nftables', layNixos, 'host_firewall = "off"\n');
    // Given the same time the first exchange had: the bridge's port is forwarding long before.
    expect(await lease(off, 8)).toBeUndefined();
  });
});
