import { defineConfig } from 'vitest/config';

// CDK synth is CPU-heavy: each test file synthesises once and shares the Template.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' },
});
