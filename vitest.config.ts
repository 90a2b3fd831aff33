import { defineConfig } from 'vitest/config';

// Three projects: fast pure unit tests, the npm package, and real-kernel tests that create network namespaces.
// Kernel tests run one file at a time: they share the host's netns name space and process table.
export default defineConfig({
  test: {
    // One TMPDIR per run, removed at its end: tests cannot leave directories in /tmp.
    globalSetup: ['test/support/global-tmp.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      // Packs and installs the npm package (no root, no kernel; slower than a unit test).
      { test: { name: 'package', include: ['test/package/**/*.test.ts'], testTimeout: 240_000 } },
      {
        test: {
          name: 'kernel',
          include: ['test/kernel/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
