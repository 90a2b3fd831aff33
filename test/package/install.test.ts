// Installing vnetfw as any Node CLI is installed: `npm pack` on a clean copy of the sources (no
// dist/), then `npm install -g` of the tarball into a temporary prefix, then the installed
// `vnetfw` runs `--version`, `plan` and `--help` from outside any checkout. Then the systemd unit
// (docs/vnetfw.service) is checked by `systemd-analyze verify` against a root where that install
// sits at /usr/local, as on a host. Needs no root and no kernel; it needs npm's cache (or the
// registry) for the runtime dependencies, and systemd-analyze (.ci/run installs systemd).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };
const work = mkdtempSync(join(tmpdir(), 'vnetfw-pack-'));

// Nothing from the npm run that started vitest (npm_config_*, npm_package_*, ...) leaks into the
// commands under test; the rest of the environment (proxy, CA certificates) is what npm needs.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
const run = (argv: string[], cwd: string): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(argv[0] ?? '', argv.slice(1), { cwd, env, encoding: 'utf8', timeout: 150_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error?.message ?? ''}` };
};

// The sources git knows (tracked and new, not ignored): what a fresh clone has, without dist/.
const cleanCopy = (to: string): void => {
  const ls = run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], repo);
  if (ls.code !== 0) throw new Error(`git ls-files: ${ls.stderr}`);
  for (const f of ls.stdout.split('\0').filter((x) => x !== '')) {
    if (!existsSync(join(repo, f))) continue;   // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(to, f)), { recursive: true });
    copyFileSync(join(repo, f), join(to, f));
  }
  // The build tools (tsc) for prepack; the copy's own dist/ does not exist.
  symlinkSync(join(repo, 'node_modules'), join(to, 'node_modules'));
};

describe('npm package', () => {
  afterAll(() => { rmSync(work, { recursive: true, force: true }); });

  it('packs bin/ and dist/ only, installs globally into a prefix, and the installed vnetfw runs', () => {
    const src = join(work, 'src');
    cleanCopy(src);
    expect(existsSync(join(src, 'dist'))).toBe(false);

    const packed = run(['npm', 'pack', '--json', '--pack-destination', work], src);
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    expect(info?.filename).toBe(`${pkg.name}-${pkg.version}.tgz`);
    const files = (info?.files ?? []).map((f) => f.path);
    expect(files).toContain('bin/vnetfw.js');
    expect(files).toContain('dist/src/cli/main.js');
    expect(files).toContain('dist/src/cli/vnetfw.cjs'); // the bundle bin/vnetfw.js loads
    expect(files).toContain('bin/package.json'); // makes the launcher CommonJS
    expect(files.filter((f) => f.startsWith('dist/src/build/'))).toEqual([]);
    expect(files).toContain('dist/state/log-store.js');
    expect(files).toContain('dist/machines/index.js');
    const shipped = (f: string): boolean =>
      /^(package\.json|README\.md|LICENSE)$/.test(f) || f === 'bin/vnetfw.js' || f === 'bin/package.json'
      || /^dist\/(src|machines|state)\/.+\.js$/.test(f) || /^dist\/src\/cli\/vnetfw(-[\w-]+)?\.cjs$/.test(f)
      // V8's code cache of the bundle and the launcher's hook that reads it
      || f === 'dist/src/cli/code-cache.cjs' || /^dist\/src\/cli\/code-cache\/(manifest\.json|vnetfw(-[\w-]+)?\.cjs\.bin)$/.test(f);
    expect(files.filter((f) => !shipped(f))).toEqual([]);

    const prefix = join(work, 'root', 'usr', 'local');
    const installed = run(['npm', 'install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund',
      join(work, info?.filename ?? '')], work);
    expect(installed.code, installed.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'vnetfw');
    const home = join(prefix, 'lib', 'node_modules', pkg.name);
    // Nothing runs at install time: the tarball is already built.
    const scripts = (JSON.parse(readFileSync(join(home, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
    expect(Object.keys(scripts).filter((k) => /^(pre|post)?(install|prepare)$/.test(k))).toEqual([]);
    expect(existsSync(join(home, 'test'))).toBe(false);
    expect(existsSync(join(home, 'bench'))).toBe(false);
    expect(existsSync(join(home, 'src'))).toBe(false);

    const version = run([bin, '--version'], work);
    expect(version).toMatchObject({ code: 0, stdout: `vnetfw ${pkg.version}\n` });
    // The code cache packed with the bundle is the one the installed bundle is compiled from (the
    // entry file holds an import() and is compiled as usual).
    const cli = join(home, 'dist', 'src', 'cli');
    const cached = run([process.execPath, '-e', `const cc = require(${JSON.stringify(join(cli, 'code-cache.cjs'))}).installCodeCache(${JSON.stringify(cli)}, 'use');
      require(${JSON.stringify(join(cli, 'vnetfw.cjs'))}); require(${JSON.stringify(join(cli, 'vnetfw-engine.cjs'))});
      process.stdout.write(JSON.stringify({ used: cc.used, refused: cc.refused }));`], work);
    expect(cached.code, cached.stderr).toBe(0);
    expect(JSON.parse(cached.stdout)).toEqual({ used: expect.arrayContaining(['vnetfw-events.cjs', 'vnetfw-engine.cjs']) as unknown, refused: [] });

    // plan runs the whole rule path (XML parse, rule builders, formatting) from the install.
    const xml = join(work, 'default.xml');
    copyFileSync(join(repo, 'test', 'fixtures', 'cases', 'nat-default.xml'), xml);
    const plan = run([bin, 'plan', xml, '--backend', 'nftables'], work);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout.split('\n')).toContain('nft add table ip libvirt_network');
    expect(plan.stdout).toMatch(/ip saddr 192\.168\.122\.0\/24 ip daddr '!=' 192\.168\.122\.0\/24 counter masquerade/);
    // ... and prints what the sources it was packed from print.
    expect(plan.stdout).toBe(run([process.execPath, join(src, 'bin', 'vnetfw.js'), 'plan', xml, '--backend', 'nftables'], work).stdout);

    const help = run([bin, '--help'], work);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: vnetfw /);
    for (const c of ['define', 'start', 'plan', 'daemon', 'log']) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  }, 240_000);

  // After the install above (tests of a file run in order): the unit as shipped, verified with
  // vnetfw where its ExecStart says, and systemd's own units and /bin/kill beside it.
  it('docs/vnetfw.service passes systemd-analyze verify, with no warning', () => {
    const root = join(work, 'root');
    const unit = readFileSync(join(repo, 'docs', 'vnetfw.service'), 'utf8');
    const execStart = /^ExecStart=(\S+)/m.exec(unit)?.[1] ?? '';
    expect(execStart).toBe('/usr/local/bin/vnetfw');
    expect(existsSync(join(root, execStart)), 'npm install -g --prefix ROOT/usr/local put vnetfw there').toBe(true);
    const analyze = run(['systemd-analyze', '--version'], work);
    expect(analyze.code, 'systemd-analyze is needed (apt-get install systemd; .ci/run installs it)').toBe(0);
    mkdirSync(join(root, 'etc', 'systemd', 'system'), { recursive: true });
    mkdirSync(join(root, 'usr', 'lib', 'systemd'), { recursive: true });
    mkdirSync(join(root, 'bin'), { recursive: true });
    cpSync('/usr/lib/systemd/system', join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true });
    copyFileSync('/bin/kill', join(root, 'bin', 'kill'));
    copyFileSync(join(repo, 'docs', 'vnetfw.service'), join(root, 'etc', 'systemd', 'system', 'vnetfw.service'));
    const verify = run(['systemd-analyze', 'verify', '--man=no', `--root=${root}`, 'vnetfw.service'], work);
    // Unknown keys and bad values are only warnings (exit 0): any output at all fails.
    expect({ code: verify.code, output: `${verify.stdout}${verify.stderr}` }).toEqual({ code: 0, output: '' });
    for (const line of ['Type=notify', 'NotifyAccess=all', 'WatchdogSec=2min']) expect(unit.split('\n')).toContain(line);
  });
});
