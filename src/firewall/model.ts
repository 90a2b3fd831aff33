// The firewall model: what a network's rules are, independent of how they are sent to the kernel.
// A command is stored in libvirt's saved form: argv without the program, without `-w` / `-ae`
// (those are added when a command is rendered for running), e.g.
//   iptables: ['--table','filter','--insert','LIBVIRT_INP','--in-interface','virbr0', ...]
//   nft:      ['insert','rule','ip','libvirt_network','guest_output','iif','virbr0','counter','reject']
//
// A Backend is where a network's rules live: a firewall backend in a layout. `firewall_backend`
// chooses between iptables and nftables; with nftables, `firewall_layout` chooses libvirt's layout
// ('nftables') or vnetfw's indexed one ('nftables-indexed'). Changing either is a live switch from
// one Backend to another; a network's removals are recorded per Backend.
export type Backend = 'iptables' | 'nftables' | 'nftables-indexed';
export type ConfigBackend = 'iptables' | 'nftables';
export type Layout = 'libvirt' | 'indexed';
export const BACKENDS: readonly ConfigBackend[] = ['iptables', 'nftables'];
export const LAYOUTS: readonly Layout[] = ['libvirt', 'indexed'];
export const ALL_BACKENDS: readonly Backend[] = ['iptables', 'nftables', 'nftables-indexed'];

// The Backend for a configured backend and layout (the indexed layout exists for nftables only;
// the configuration refuses it with iptables).
export const backendFor = (backend: ConfigBackend, layout: Layout = 'libvirt'): Backend =>
  (backend === 'nftables' && layout === 'indexed' ? 'nftables-indexed' : backend);
export const programBackend = (b: Backend): ConfigBackend => (b === 'iptables' ? 'iptables' : 'nftables');
export const layoutOf = (b: Backend): Layout => (b === 'nftables-indexed' ? 'indexed' : 'libvirt');

// tc: the newest libvirt's DHCP checksum filter (an nftables network's removal list may hold one).
export type Program = 'iptables' | 'ip6tables' | 'nft' | 'tc';

export interface FwCommand {
  program: Program;
  args: string[];
  ignoreErrors?: boolean;
  // Set on per-network rules (libvirt's AUTO_ROLLBACK groups): nft runs them with `-ae` so the kernel
  // echoes the handle the undo needs. Private setup commands leave it unset and get no `-ae`.
  autoRollback?: boolean;
}

// A group runs in order; a failing command fails the group unless errors are ignored
// (libvirt's DHCP checksum group is the one group that tolerates failure).
export interface FwGroup {
  ignoreErrors: boolean;
  commands: FwCommand[];
}

// Everything one network adds on one backend, in libvirt's emission order.
export interface FwRuleSet {
  backend: Backend;
  network: string;
  groups: FwGroup[];
}

// What was actually applied: each command with the command that undoes it. For iptables the undo
// is known up front (--insert -> --delete); for nftables it needs the handle the kernel echoed.
export interface AppliedCommand {
  command: FwCommand;
  undo: FwCommand;
  group?: number;           // index of the FwGroup it came from (0 when absent)
}

// libvirt's fwRemoval: groups of undo commands, to be run in order, errors ignored.
export interface FwRemoval {
  backend: Backend;
  groups: FwGroup[];
}
