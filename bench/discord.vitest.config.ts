import { defineConfig } from 'vitest/config';

// The Discord benchmark runs through vitest so it can use the TypeScript Discord simulation as is.
export default defineConfig({
  test: { include: ['bench/discord.bench.ts'], pool: 'forks', testTimeout: 300_000, hookTimeout: 60_000 },
});
