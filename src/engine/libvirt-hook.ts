// vnetfw as libvirt's network hook: libvirt keeps the bridge, dnsmasq and the guests of a network
// it runs with <forward mode='open'/> (it adds no firewall for those), and vnetfw holds the real
// policy of the same network name on the same bridge, started and stopped when libvirt does.
// A failure is an error (libvirt then fails the network's start: no guests behind a missing
// firewall). The bridge is libvirt's: vnetfw finds it in place and so never deletes it.
import type { HookAction, HookNetwork } from '../libvirt/index.js';
import type { EngineEnv } from './env.js';
import { recoverNamed } from './reconcile.js';
import { EngineError } from './errors.js';
import { networkStatus } from './network-lookup.js';
import { runNetworkOps } from './machine-driver.js';

export interface HookOutcome { action: HookAction; done: string }

export const runLibvirtHook = async (env: EngineEnv, name: string, op: string, subop: string, action: HookAction, net: HookNetwork): Promise<HookOutcome> => {
  const st = networkStatus(env.journal.store, name);
  const def = st.definition;
  if (def === null) return { action: 'none', done: 'not defined in vnetfw' };
  await env.journal.write({ type: 'libvirt.hook', network: name, data: { libvirtOp: op, libvirtSubop: subop, action } });
  if (action === 'none') return { action, done: 'nothing to do' };
  if (action === 'start') {
    if (net.bridge !== undefined && net.bridge !== def.bridge.name) {
      throw new EngineError('EHOOK_BRIDGE', `network '${name}': libvirt runs it on bridge '${net.bridge}', vnetfw's definition says '${def.bridge.name}'`, 1);
    }
    if (net.forwardMode !== undefined && net.forwardMode !== 'open') {
      throw new EngineError('EHOOK_MODE', `network '${name}': libvirt runs it with forward mode '${net.forwardMode}' and its own firewall; define it in libvirt with <forward mode='open'/> to leave the firewall to vnetfw`, 1);
    }
  }
  await recoverNamed(env, [name]);
  const now = networkStatus(env.journal.store, name).state;
  if (action === 'start' && now === 'active') return { action, done: 'already active' };
  if (action === 'stop' && now === 'stopped') return { action, done: 'already stopped' };
  const event = action === 'start' ? { type: 'START' as const, backend: env.backend() } : { type: 'STOP' as const };
  const [r] = await runNetworkOps(env, [{ name, event }]);
  if (r?.status === undefined) throw new EngineError('EOPFAILED', `network '${name}': ${r?.error ?? 'failed'}`, 1);
  return { action, done: action === 'start' ? `started on ${r.status.backend ?? env.backend()}` : 'stopped' };
};
