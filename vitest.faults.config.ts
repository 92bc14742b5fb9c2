import { defineConfig } from 'vitest/config';

// The fault-injection suite (tests/e2e/faults): real worker processes against a programmable
// SMTP sink, private Redis and PostgreSQL servers that get restarted or flushed. Each file has
// its own database, queue prefix and servers, so two files run at a time (two cores).
export default defineConfig({
  test: {
    include: ['tests/e2e/faults/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    env: { NODE_ENV: 'test' },
  },
});
