// Every program vnetfw runs (argv[0] of its steps): the firewall backends and their save/restore
// tools (src/firewall), the iptables variants' save tools adopt and the doctor read, `ip` for
// bridges, `tc` for the newest libvirt's checksum filter, firewall-cmd for firewalld. The metrics
// show a series for each from the start.
export const PROGRAMS_RUN = [
  'nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'iptables-save', 'ip6tables-save',
  'iptables-nft-save', 'ip6tables-nft-save', 'iptables-legacy-save', 'ip6tables-legacy-save', 'ip', 'tc', 'firewall-cmd',
] as const;
