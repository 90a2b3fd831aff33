// The small test world (as the demo's, in namespaces of its own):
//   guest G (192.168.122.10) --veth-- [bridge in H] host H (10.200.0.1) --veth-- wan W (10.200.0.2)
// The wan has no route back to the guests: only masqueraded traffic is answered. Namespaces are
// made with nsAdd, so the file's afterAll(nsDelAll) removes them.
import { ipOk, nsAdd, uniqueTag } from './netns.js';

export interface Topo { p: string; H: string; G: string; W: string }

// `tag`: a few letters naming the test; the prefix adds pid and a counter (unique per call).
export const topoUp = async (tag: string): Promise<Topo> => {
  const p = uniqueTag(tag);
  const t: Topo = { p, H: `${p}H`, G: `${p}G`, W: `${p}W` };
  for (const ns of [t.H, t.G, t.W]) await nsAdd(ns);
  const steps: string[][] = [
    ['link', 'add', `${p}gh`, 'netns', t.H, 'type', 'veth', 'peer', 'name', 'g0', 'netns', t.G],
    ['link', 'add', `${p}wh`, 'netns', t.H, 'type', 'veth', 'peer', 'name', 'w0', 'netns', t.W],
    ['-n', t.H, 'addr', 'add', '10.200.0.1/24', 'dev', `${p}wh`], ['-n', t.H, 'link', 'set', `${p}wh`, 'up'],
    ['-n', t.W, 'addr', 'add', '10.200.0.2/24', 'dev', 'w0'], ['-n', t.W, 'link', 'set', 'w0', 'up'],
    ['-n', t.G, 'addr', 'add', '192.168.122.10/24', 'dev', 'g0'], ['-n', t.G, 'link', 'set', 'g0', 'up'],
    ['-n', t.G, 'route', 'add', 'default', 'via', '192.168.122.1'],
  ];
  for (const s of steps) await ipOk(s);
  return t;
};

// After vnetfw created the bridge: plug the guest's cable into it.
export const topoAttach = async (t: Topo, bridge: string): Promise<void> => {
  await ipOk(['-n', t.H, 'link', 'set', `${t.p}gh`, 'master', bridge]);
  await ipOk(['-n', t.H, 'link', 'set', `${t.p}gh`, 'up']);
};
