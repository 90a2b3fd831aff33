// The executable `vnetfw libvirt hook install` puts in libvirt's network hook directory: it runs
// this same vnetfw (node and script by absolute path: libvirt gives hooks a minimal environment)
// with the state directory and config given to install, passing libvirt's arguments and stdin.
import { shellQuoteWord } from '../exec/index.js';

export const HOOK_FILE = 'vnetfw';
export const DEFAULT_HOOK_DIR = '/etc/libvirt/hooks/network.d';
const MARKER = '# vnetfw libvirt network hook';

export interface HookTarget { node: string; script: string; stateDir: string; configPath: string }

export const hookScript = (t: HookTarget): string => [
  '#!/bin/sh',
  `${MARKER} (written by 'vnetfw libvirt hook install'; remove with 'vnetfw libvirt hook uninstall').`,
  '# libvirt runs it as: vnetfw NAME OP SUBOP EXTRA, the network XML on stdin.',
  'PATH="${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"; export PATH',
  `exec ${[t.node, t.script, '--state-dir', t.stateDir, '--config', t.configPath, 'libvirt', 'hook', '--'].map(shellQuoteWord).join(' ')} "$@"`,
  '',
].join('\n');

export const isOurHook = (text: string): boolean => text.split('\n', 3).some((l) => l.startsWith(MARKER));
