// Where the checkout, the built CLI and the shared fixtures are.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = join(repoRoot, 'bin', 'vnetfw.js');
export const cliBuilt = existsSync(join(repoRoot, 'dist', 'src', 'cli', 'main.js'));
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
export const casesDir = join(fixturesDir, 'cases');
// The reference tools: canon.py (canonical rulesets) and small traffic programs.
export const oracleDir = join(fixturesDir, 'oracle');
