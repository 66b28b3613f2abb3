import { defineConfig } from 'vitest/config';

// The Slack benchmark runs through vitest so it can use the TypeScript Slack simulation as is.
export default defineConfig({
  test: { include: ['bench/slack.bench.ts'], pool: 'forks', testTimeout: 300_000, hookTimeout: 60_000 },
});
