// Integration with the host's other firewall managers (firewalld, Docker's iptables chains, host
// nftables tables): what vnetfw found, and the steps it takes. A step is one program run with its
// exact removal, recorded in the log like a rule, so stop, crash recovery, verify and the daemon's
// drift repair cover it.
export type Neighbour = 'firewalld' | 'docker' | 'host-nft';

// `host_firewall` in network.conf. `explicit`: the key is written in the file (only then are host
// nftables tables vnetfw does not own changed).
export type HostFirewallMode = 'integrate' | 'report' | 'off';

export interface IntegrationStep {
  id: string;                  // stable within a network: 'firewalld:zone:libvirt', 'docker:ipv4:out'
  neighbour: Neighbour;
  argv: string[];
  // Run in order at removal, errors ignored (something already gone is fine). For an nft rule the
  // handle is known only once nft echoed it: `undo` then stays empty until the step ran.
  undo: string[][];
  // Asks whether the step's effect is still there: exit 0 = present (and, with `handle`, the
  // output shows `# handle N`).
  check?: string[];
  handle?: number;
  // A host-wide step (installing a firewalld zone): kept while another network still relies on it,
  // and then handed to that network instead of undone.
  shared?: string;
  // nft insert: where the echoed handle's rule lives, to build `delete rule ... handle N`.
  nftChain?: { family: string; table: string; chain: string };
  // What a crash between intent and result leaves: for nft inserts, a comment to find the rule by.
  marker?: string;
}

// A base chain of a host nftables table that drops what guests need.
export interface HostDropChain {
  family: string;
  table: string;
  chain: string;
  hook: 'input' | 'forward';
}

export interface NeighbourFacts {
  // firewalld's table or chains are in the kernel (it runs, or ran and left them).
  firewalldSeen: boolean;
  // firewalld answered `--state` with running; its zones.
  firewalld: { zones: string[] } | null;
  // iptables(-nft) filter FORWARD with policy drop, per family, and whether DOCKER-USER exists.
  forwardDrop: { ipv4: { dockerUser: boolean } | null; ipv6: { dockerUser: boolean } | null };
  hostTables: HostDropChain[];
}

export const noNeighbours = (): NeighbourFacts => ({
  firewalldSeen: false, firewalld: null, forwardDrop: { ipv4: null, ipv6: null }, hostTables: [],
});
