// Refusals on a real kernel: input that is untrusted (interface names that are patterns or syntax,
// XML edges, a state directory someone else could write) is refused with exit 2 and one line, and
// the host's own firewall (a namespace with its own nftables table, iptables policy and rules)
// stays byte for byte what it was, links included.
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  casesDir, cliBuilt, cliPath, dumpAll, inNs, IP, must, netnsSkipReason, nsDelAll, nsNew, run, vnet, writeConf, type Res,
} from '../support/index.js';
import { canonicalJson, listSnapshots, openStore, sha256Hex } from '../../state/index.js';
import { snapshotFile } from '../../state/snapshot.js';

const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');

// A host with a firewall of its own: what must never change when vnetfw refuses something.
const HOST_FIREWALL = [
  'nft add table inet hostfw',
  "nft add chain inet hostfw forward '{ type filter hook forward priority 0; policy drop; }'",
  'nft add rule inet hostfw forward iifname "eth9" counter accept',
  'iptables -P FORWARD DROP',
  'iptables -A FORWARD -i lo -j ACCEPT',
  'ip6tables -P FORWARD DROP',
];

const net = (bridge: string, extra = ''): string =>
  `<network><name>n</name><forward mode="nat"${extra}/><bridge name="${bridge}"/><ip address="192.168.150.1" netmask="255.255.255.0"/></network>`;

describe.skipIf(skip !== undefined)(`hardening: refusals leave the host untouched${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  let ns = '';
  let tmp = '';
  let seq = 0;
  const hostView = async (): Promise<string> => `${await dumpAll(ns)}${(await must(run([IP, '-n', ns, '-o', 'link']), 'links')).stdout}`;
  // Runs vnetfw in the namespace and checks the host's firewall and links did not change.
  const refusedUntouched = async (args: (dir: string) => string[], stateDir?: string): Promise<Res> => {
    const dir = join(tmp, `case${++seq}`);
    const before = await hostView();
    const r = await vnet(ns, stateDir ?? join(dir, 'state'), writeConf(join(tmp, `c${seq}.conf`), 'iptables'), args(dir));
    expect(await hostView()).toBe(before);
    return r;
  };
  const expectOneLine = (r: Res, code: number, line: string | RegExp): void => {
    expect({ code: r.code, out: r.stdout }).toEqual({ code, out: '' });
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    if (typeof line === 'string') expect(r.stderr.trimEnd()).toBe(line); else expect(r.stderr.trimEnd()).toMatch(line);
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'vnetfw-hardening-'));
    ns = await nsNew('hard');
    for (const c of HOST_FIREWALL) await must(inNs(ns, ['sh', '-c', c]), c);
  });
  afterAll(async () => {
    await nsDelAll();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  describe('interface names that are patterns or syntax', () => {
    const cases: Array<[string, string, string]> = [
      ['+', net('+'), "bridge name '+' is invalid: '+' is not allowed: only letters, digits, '_', '.' and '-'"],
      ['vir+', net('vir+'), "bridge name 'vir+' is invalid: '+' is not allowed: only letters, digits, '_', '.' and '-'"],
      ['{x}', net('{x}'), "bridge name '{x}' is invalid: '{' is not allowed: only letters, digits, '_', '.' and '-'"],
      ['&#x7b;lo&#x7d;', net('&#x7b;lo&#x7d;'), "bridge name '{lo}' is invalid: '{' is not allowed: only letters, digits, '_', '.' and '-'"],
      ['forward dev eth*', net('virbr9', ' dev="eth*"'), "forward dev 'eth*' is invalid: '*' is not allowed: only letters, digits, '_', '.' and '-'"],
    ];
    for (const [what, xml, message] of cases) {
      it(`${what}: define and start refused, exit 2, one line`, async () => {
        const dir = join(tmp, `names-${seq + 1}`);
        const file = join(tmp, `bad${seq + 1}.xml`);
        writeFileSync(file, xml);
        const state = join(dir, 'state');
        expectOneLine(await refusedUntouched(() => ['define', file], state), 2, `vnetfw: ${file}: ${message}`);
        // Nothing was defined, so nothing can be started either.
        expectOneLine(await refusedUntouched(() => ['start', 'n'], state), 2, "vnetfw: network 'n' is not defined");
      });
    }
  });

  describe('XML edges', () => {
    it('100,000 nested elements: define refused, exit 2, one line', async () => {
      const file = join(tmp, 'deep.xml');
      writeFileSync(file, `<network><name>n</name><bridge name="virbr0"/><metadata>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</metadata></network>`);
      expectOneLine(await refusedUntouched(() => ['define', file]), 2, `vnetfw: ${file}: elements nested deeper than 256 levels`);
    });
    it('a FIFO given as FILE: define refused at once, exit 2, one line', async () => {
      const fifo = join(tmp, 'fifo.xml');
      await must(run(['mkfifo', fifo]), 'mkfifo');
      expectOneLine(await refusedUntouched(() => ['define', fifo]), 2, `vnetfw: ${fifo}: is a FIFO: only a regular file is read`);
    });
  });

  describe('state directory someone else could write', () => {
    const msg = (dir: string, what: string): string =>
      `vnetfw: state directory ${dir}: ${what}: refused (it must be a real directory owned by root and writable only by root)`;
    it('log -> another directory: define, start and reconcile refused; the other directory untouched', async () => {
      const victim = join(tmp, 'victim');
      mkdirSync(victim, { mode: 0o755 });
      writeFileSync(join(victim, 'keep'), 'x');
      const view = (): string => `${statSync(victim).mode.toString(8)} ${readdirSync(victim).join(',')}`;
      const before = view();
      const state = join(tmp, 'state-link');
      mkdirSync(state, { mode: 0o700 });
      symlinkSync(victim, join(state, 'log'));
      const what = `${join(state, 'log')} is a symlink`;
      expectOneLine(await refusedUntouched(() => ['define', join(casesDir, 'nat-default.xml')], state), 2, msg(state, what));
      expectOneLine(await refusedUntouched(() => ['start', 'default'], state), 2, msg(state, what));
      expectOneLine(await refusedUntouched(() => ['reconcile'], state), 2, msg(state, what));
      expect(view()).toBe(before);
    });
    it('owned by another user: refused before anything is created in it', async () => {
      const state = join(tmp, 'state-other');
      mkdirSync(state, { mode: 0o700 });
      chownSync(state, 4321, 4321);
      expectOneLine(await refusedUntouched(() => ['define', join(casesDir, 'nat-default.xml')], state), 2, msg(state, 'it is owned by uid 4321, not root'));
      expect(readdirSync(state)).toEqual([]);
    });
  });

  it('a forged snapshot (removal list: nft flush ruleset, checksum recomputed): stop removes only the network\'s rules', async () => {
    const state = join(tmp, 'state-snap');
    const conf = join(tmp, 'snap.conf');
    writeConf(conf, 'nftables');
    const cli = (args: string[]): Promise<Res> => vnet(ns, state, conf, args);
    const before = await hostView();
    await must(cli(['define', join(casesDir, 'nat-default.xml')]), 'define');
    await must(cli(['start', 'default']), 'start');
    const s = await openStore(state);
    await s.snapshot();
    await s.close();
    const seq = listSnapshots(state)[0] ?? 0;
    const file = snapshotFile(state, seq);
    const snap = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { state: { networks: Record<string, { removals: unknown }> } };
    const net = snap.state.networks.default;
    if (net === undefined) throw new Error('no network in the snapshot');
    net.removals = { nftables: { backend: 'nftables', groups: [{ ignoreErrors: false, commands: [{ program: 'nft', args: ['flush', 'ruleset'] }] }] } };
    const { check: _old, ...body } = snap;
    writeFileSync(file, JSON.stringify({ ...body, check: sha256Hex(canonicalJson(body)) }));
    const v = await vnet(ns, state, conf, ['log', 'verify']);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain(`log verify: snapshot ${file} does not match the log at seq ${seq}`);
    await must(cli(['stop', 'default']), 'stop');
    // The host's table and iptables rules are all there; the network's rules are gone (the
    // private libvirt_network tables stay, empty, as libvirt leaves them).
    const after = await dumpAll(ns);
    expect(after).toContain('table inet hostfw');
    expect(after).toContain('iifname "eth9" counter accept');
    expect(after).toContain('-A FORWARD -i lo -j ACCEPT');
    expect(after).not.toContain('virbr0');
    expect(before.split('\n').filter((l) => l.includes('hostfw') || l.includes('FORWARD'))).toEqual(
      (await hostView()).split('\n').filter((l) => l.includes('hostfw') || l.includes('FORWARD')));
  });

  it("the caller's XTABLES_LIBDIR does not reach iptables: start on iptables works with it set", async () => {
    const state = join(tmp, 'state-env');
    const conf = writeConf(join(tmp, 'env.conf'), 'iptables');
    const env: NodeJS.ProcessEnv = { ...process.env, XTABLES_LIBDIR: join(tmp, 'no-xtables-here') };
    delete env.VNETFW_STATE_DIR;
    delete env.VNETFW_CONFIG;
    const cli = (args: string[]): Promise<Res> => inNs(ns, [process.execPath, cliPath, '--state-dir', state, '--config', conf, ...args], { env });
    const xml = join(tmp, 'envnet.xml');
    writeFileSync(xml, net('virbr7').replace('<name>n</name>', '<name>envnet</name>'));
    await must(cli(['define', xml]), 'define');
    await must(cli(['start', 'envnet']), 'start with XTABLES_LIBDIR set');
    expect(await dumpAll(ns)).toContain('-A LIBVIRT_FWO -s 192.168.150.0/24 -i virbr7 -j ACCEPT');
    await must(cli(['stop', 'envnet']), 'stop');
  });
});
