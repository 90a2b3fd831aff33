// The two calls append() depends on for durability, injectable so tests can observe (or fail)
// them: the record's bytes must be written and fsynced before append() resolves.
import { fsyncSync, writeSync } from 'node:fs';

export interface FileIo {
  write(fd: number, buf: Buffer, position: number): Promise<void>;
  fsync(fd: number): Promise<void>;
}

// Synchronous underneath: a write and an fsync of a few hundred KiB take about a millisecond here,
// while each trip through libuv's thread pool handed the callback back only when the event loop
// next came round, often 5-10 ms later in a busy operation (measured in a 40-network switch:
// 5 appends, 10 round trips). Nothing else can usefully run while an intent is not yet durable.
const settled = (work: () => void): Promise<void> => {
  try {
    work();
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err as Error);
  }
};

export const nodeIo: FileIo = {
  write: (fd, buf, position) => settled(() => {
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off, position + off);
  }),
  fsync: (fd) => settled(() => { fsyncSync(fd); }),
};
