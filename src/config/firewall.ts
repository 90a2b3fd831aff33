// The Backend rules go on: the resolved firewall_backend in the configured firewall_layout.
import { backendFor, type Backend, type ConfigBackend } from '../firewall/model.js';
import { isOnPath, resolveBackend } from './backend.js';
import type { FirewallLayout, NetConf } from './config.js';

export const configuredLayout = (conf: NetConf): FirewallLayout => conf.firewallLayout;

export const resolveFirewall = (conf: NetConf, onPath: (prog: string) => boolean = (p) => isOnPath(p)): Backend =>
  backendFor(resolveBackend(conf, onPath) as ConfigBackend, conf.firewallLayout);
