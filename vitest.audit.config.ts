import { defineConfig } from 'vitest/config';

// The log audit (tests/audit): reads what `npm test` and `npm run test:faults` logged into
// TEST_LOG_DIR, so it runs after them (.ci/run).
export default defineConfig({
  test: {
    include: ['tests/audit/**/*.test.ts'],
    env: { NODE_ENV: 'test' },
  },
});
