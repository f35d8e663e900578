#!/usr/bin/env node
// Entry point of the `flowsampler` command: runs the compiled CLI in dist/ (built by `npm install`
// through the `prepare` script, or by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("flowsampler: the compiled CLI is missing (dist/). Run 'npm run build' in the flowsampler folder.\n");
  process.exit(2);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
