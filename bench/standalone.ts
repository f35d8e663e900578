/** Helpers for benches that also run alone (`npx tsx bench/<name>.ts [--flag value]`). */
import { fileURLToPath } from 'node:url';

/** True when the module at `importMetaUrl` is the script node was started with. */
export function isMain(importMetaUrl: string): boolean {
  return Boolean(process.argv[1]) && fileURLToPath(importMetaUrl) === process.argv[1];
}

/** The value after `--key` on the command line, if any. */
export function optionValue(key: string, argv = process.argv.slice(2)): string | undefined {
  const i = argv.indexOf(key);
  return i >= 0 ? argv[i + 1] : undefined;
}
