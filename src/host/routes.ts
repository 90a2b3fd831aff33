// The interfaces of the host's default routes: where guests' forwarded traffic leaves.
import type { IpFamily } from '../definition/types.js';

export const defaultRouteQuery = (family: IpFamily): string[] => ['ip', ...(family === 'ipv6' ? ['-6'] : []), '-j', 'route', 'show', 'default'];

// `ip -j route show default` → device names; anything unexpected reads as "no default route".
export const parseDefaultRouteDevs = (json: string): string[] => {
  let doc: unknown;
  try { doc = JSON.parse(json); } catch { return []; }
  if (!Array.isArray(doc)) return [];
  const devs = doc.map((r: unknown) => (typeof r === 'object' && r !== null ? (r as { dev?: unknown }).dev : undefined));
  return [...new Set(devs.filter((d): d is string => typeof d === 'string' && /^[^\s"'\\/]{1,15}$/.test(d)))];
};
