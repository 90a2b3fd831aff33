// node_exporter's textfile collector reads every `*.prom` file of a directory at each scrape. The
// file is replaced atomically (a hidden temporary file, fsync, rename), so a scrape sees the old
// or the new metrics, never half of them; the temporary name does not end in `.prom`, so the
// collector never reads it.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { VnetfwError } from '../errors.js';
import { writeFileAtomicSync } from '../../state/index.js';

export const TEXTFILE_NAME = 'vnetfw.prom';

export class MetricsError extends VnetfwError {
  constructor(code: string, message: string, exitCode: 1 | 2 = 1) {
    super(code, message, { exitCode });
    this.name = 'MetricsError';
  }
}

// The directory must exist: node_exporter was set up to read it; creating one it does not read
// would hide the mistake.
export const checkTextfileDir = (dir: string): string => {
  let isDir = false;
  try { isDir = statSync(dir).isDirectory(); } catch { /* reported below */ }
  if (dir === '' || !isDir) throw new MetricsError('EMETRICSDIR', `--metrics-textfile '${dir}' is not an existing directory`, 2);
  return join(dir, TEXTFILE_NAME);
};

// 0644: node_exporter usually runs as its own unprivileged user. The metrics hold no secret
// (network names, counts).
export const writeTextfile = (path: string, text: string): void => { writeFileAtomicSync(path, text, 0o644); };
