#!/usr/bin/env node
// The compiled CLI lives in dist/, built by `npm run build` (npm ci runs it through `prepare`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error [INTERNAL]: emu-bot is not built yet; run `npm run build` in its folder\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main();
