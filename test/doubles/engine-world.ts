// The engine over a fresh state directory, the in-memory FakeRunner and a sysctl that answers one
// value (no root): what the engine's unit tests start from. Each test file closes its worlds with
// `afterEach(closeEngineWorlds)` (stores closed, directories removed).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/config/index.js';
import { createJournal, defineNetwork, type EngineEnv } from '../../src/engine/index.js';
import type { Backend } from '../../src/firewall/index.js';
import type { Sysctl } from '../../src/host/index.js';
import { openStore, type LogRecord, type Store } from '../../state/index.js';
import type { FileIo } from '../../state/file-io.js';
import { FakeRunner } from './fake-runner.js';

export const casesDir = fileURLToPath(new URL('../fixtures/cases/', import.meta.url));

export const fixedSysctl = (value: string): Sysctl => ({ read: () => Promise.resolve(value), write: () => Promise.resolve(value) });

export interface EngineWorld {
  env: EngineEnv;
  fake: FakeRunner;
  store: Store;
  dir: string;
  stateDir: string;
  records: LogRecord[];           // every record appended, in order
}

export interface EngineWorldOptions {
  backend?: Backend | (() => Backend);  // what the engine resolves (default nftables)
  configBackend?: Backend;              // network.conf's firewall_backend, when the test sets one
  sysctl?: string;                      // what every sysctl read answers (default '1')
  io?: FileIo;                          // the store's file I/O (failure injection)
}

const worlds: Array<() => Promise<void>> = [];

export const closeEngineWorlds = async (): Promise<void> => {
  for (const close of worlds.splice(0)) await close();
};

export const engineWorld = async (o: EngineWorldOptions = {}): Promise<EngineWorld> => {
  const dir = mkdtempSync(join(tmpdir(), 'vnetfw-engine-'));
  const stateDir = join(dir, 'state');
  const store = await openStore(stateDir, o.io === undefined ? {} : { io: o.io });
  worlds.push(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const records: LogRecord[] = [];
  store.follow().subscribe((r) => records.push(r));
  const fake = new FakeRunner();
  const backend = o.backend ?? 'nftables';
  const config = defaultConfig(join(dir, 'network.conf'));
  const env: EngineEnv = {
    journal: createJournal(store), runner: fake, sysctl: fixedSysctl(o.sysctl ?? '1'),
    config: o.configBackend === undefined ? config : { ...config, firewallBackend: o.configBackend },
    backend: typeof backend === 'function' ? backend : () => backend,
  };
  return { env, fake, store, dir, stateDir, records };
};

// Networks n0..n{count-1}: libvirt's default NAT network renumbered (bridge virbrI, 192.168.100+I.0/24).
export const defineRenumbered = async (w: EngineWorld, count: number): Promise<void> => {
  const base = readFileSync(join(casesDir, 'nat-default.xml'), 'utf8');
  for (let i = 0; i < count; i++) {
    const file = join(w.dir, `n${i}.xml`);
    writeFileSync(file, base.replace('<name>default</name>', `<name>n${i}</name>`).replace('virbr0', `virbr${i}`)
      .replace(/192\.168\.122\./g, `192.168.${100 + i}.`));
    await defineNetwork(w.env.journal, file);
  }
};
