// What the programs vnetfw runs get of its environment (pure, no programs run).
import { describe, expect, it } from 'vitest';
import { childEnv } from '../../../src/exec/index.js';

const caller = { PATH: '/usr/sbin:/usr/bin', XTABLES_LIBDIR: '/tmp/x', LD_PRELOAD: '/tmp/x.so', DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/run/t/bus' };

describe('childEnv', () => {
  it('gives every program PATH and LC_ALL=C only', () => {
    for (const program of ['nft', 'iptables', 'ip', 'tc', undefined]) {
      expect(childEnv(caller, program)).toEqual({ PATH: '/usr/sbin:/usr/bin', LC_ALL: 'C' });
    }
  });

  it("gives firewall-cmd the caller's system bus too", () => {
    expect(childEnv(caller, 'firewall-cmd')).toEqual({ PATH: '/usr/sbin:/usr/bin', LC_ALL: 'C', DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/run/t/bus' });
  });

  it('passes no empty bus address, and a fallback PATH when the caller has none', () => {
    const env = childEnv({ DBUS_SYSTEM_BUS_ADDRESS: '' }, 'firewall-cmd');
    expect(env).not.toHaveProperty('DBUS_SYSTEM_BUS_ADDRESS');
    expect(env.PATH).toMatch(/\/usr\/sbin/);
  });
});
