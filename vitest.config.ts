import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The fault-injection suite runs on its own: `npm run test:faults` (vitest.faults.config.ts).
    exclude: ['tests/e2e/faults/**', 'tests/audit/**', '**/node_modules/**'],
    // Each file gets its own database and queue prefix, so files run in parallel safely.
    pool: 'forks',
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { NODE_ENV: 'test' },
  },
});
