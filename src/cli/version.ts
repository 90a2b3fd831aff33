import { readFileSync } from 'node:fs';

// The package.json above this file: src/cli/ in a checkout, dist/src/cli/ when built.
export const version = (): string => {
  for (const up of ['../../', '../../../', '../']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vnetfw' && typeof pkg.version === 'string') return pkg.version;
    } catch { /* not there: look one level further */ }
  }
  return 'unknown';
};
