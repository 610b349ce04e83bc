import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file gets its own sandboxed HOME/XDG dirs via the setup file.
    setupFiles: ['test/setup.ts'],
  },
});
