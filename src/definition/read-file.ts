// Reading a file named on the command line (a network XML, a libvirt status file): opened once,
// checked on the open descriptor (a regular file, not too big), read once. A FIFO or a device
// would otherwise block or stream without end past a size check made by path; and a file read
// twice may change in between, so callers get the one text they validate and record.
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { DefinitionError } from './errors.js';

const kindOf = (st: Stats): string =>
  st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device'
    : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';

const sizeText = (n: number): string => (n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`);

export const readUntrustedFile = async (path: string, maxBytes: number): Promise<string> => {
  let fh: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw new DefinitionError('EDEF_FILE', `${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new DefinitionError('EDEF_FILE', `${path}: is ${kindOf(st)}: only a regular file is read`);
    if (st.size > maxBytes) throw new DefinitionError('EDEF_FILE', `${path}: file is larger than ${sizeText(maxBytes)}`);
    // Read at most maxBytes + 1: a file that grew after the stat is still caught.
    const buf = Buffer.alloc(maxBytes + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > maxBytes) throw new DefinitionError('EDEF_FILE', `${path}: file is larger than ${sizeText(maxBytes)}`);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, got));
    } catch {
      throw new DefinitionError('EDEF_FILE', `${path}: not valid UTF-8`);
    }
  } catch (e) {
    if (e instanceof DefinitionError) throw e;
    throw new DefinitionError('EDEF_FILE', `${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await fh.close();
  }
};
