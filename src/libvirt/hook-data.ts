// What libvirt passes its network hook (virhook.c, bridge_driver.c networkRunHook): argv
// `NAME OP SUBOP EXTRA` (OP: start, started, stopped, port-created, port-deleted, updated; SUBOP
// begin, end or '-'; EXTRA '-'), and on stdin `<hookData>` holding the network's live <network>
// definition (and a <networkport> for port events). vnetfw needs only the bridge and the forward
// mode, read leniently: the hook must never fail a network because libvirt grew an element.
export type HookAction = 'start' | 'stop' | 'none';

// `started` comes after libvirt created the bridge (and before it saves the network as active);
// `stopped` after it deleted it. Everything else is no business of the firewall.
export const actionOf = (op: string): HookAction => (op === 'started' ? 'start' : op === 'stopped' ? 'stop' : 'none');

export interface HookNetwork { bridge?: string; forwardMode?: string }

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}\\s*=\\s*(['"])([^'"]*)\\1`).exec(tag)?.[2];

export const hookNetwork = (stdin: string): HookNetwork => {
  const net = /<network[\s>][\s\S]*?<\/network>/.exec(stdin)?.[0] ?? '';
  const bridgeTag = /<bridge\s[^>]*>/.exec(net)?.[0];
  const forwardTag = /<forward(\s[^>]*)?\/?>/.exec(net)?.[0];
  const bridge = bridgeTag === undefined ? undefined : attr(bridgeTag, 'name');
  const forwardMode = forwardTag === undefined ? undefined : (attr(forwardTag, 'mode') ?? 'nat');
  return { ...(bridge === undefined ? {} : { bridge }), ...(forwardMode === undefined ? {} : { forwardMode }) };
};
