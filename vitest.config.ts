import { defineConfig } from 'vitest/config';

// Three projects: fast pure unit tests, the npm package, and real-kernel tests that create network namespaces.
// Kernel tests run one file at a time: they share the host's netns name space and process table.
export default defineConfig({
  test: {
    // One TMPDIR per run, removed at its end: tests cannot leave directories in /tmp.
    globalSetup: ['test/support/global-tmp.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      // What operators install and run: the npm package, the systemd unit, shipping the log (no
      // root, no kernel; slower than unit tests: they pack, install and start processes).
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
