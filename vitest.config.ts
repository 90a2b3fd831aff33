import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests, and real-kernel tests that create network namespaces.
// Kernel tests run one file at a time: they share the host's netns name space and process table.
export default defineConfig({
  test: {
    // One TMPDIR per run, removed at its end: tests cannot leave directories in /tmp.
    globalSetup: ['test/support/global-tmp.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
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
