// The two calls append() depends on for durability, injectable so tests can observe (or fail)
// them: the record's bytes must be written and fsynced before append() resolves.
import { fsync, write } from 'node:fs';

export interface FileIo {
  write(fd: number, buf: Buffer, position: number): Promise<void>;
  fsync(fd: number): Promise<void>;
}

const writeOnce = (fd: number, buf: Buffer, off: number, position: number): Promise<number> =>
  new Promise((resolve, reject) => write(fd, buf, off, buf.length - off, position, (err, n) => (err ? reject(err) : resolve(n))));

export const nodeIo: FileIo = {
  async write(fd, buf, position) {
    for (let off = 0; off < buf.length;) off += await writeOnce(fd, buf, off, position + off);
  },
  fsync: (fd) => new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve()))),
};
