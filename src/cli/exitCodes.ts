/**
 * Exit codes shared by the commands: 0 done, 1 done but with warnings under --strict, 2 bad input
 * (one line on stderr), 130 interrupted. A `compare` in which every sampler failed produced
 * nothing and exits 2; with --strict, a failed row counts like a warning.
 */
import type { CommandIO } from './command.js';

export const strictOption = { strict: { type: 'boolean' } } as const;

export const strictHelp = '  --strict           exit with code 1 when a result carries a warning (or a sampler failed)';

/** Exit code of a command that finished, given how many warnings its results carry. */
export function warningsExitCode(strict: boolean, warnings: number, io: CommandIO, command: string): number {
  if (strict && warnings > 0) {
    io.err(`flowsampler ${command}: ${warnings} warning${warnings === 1 ? '' : 's'} (--strict)`);
    return 1;
  }
  return 0;
}

/** Exit code of `compare`/`demo` from its outcome. */
export function compareExitCode(outcome: { interrupted: boolean; succeeded: number; failed: number; warnings: number }, strict: boolean, io: CommandIO, command: string): number {
  if (outcome.interrupted) return 130;
  if (outcome.succeeded === 0 && outcome.failed > 0) {
    io.err(`flowsampler ${command}: every sampler failed (${outcome.failed}); see the lines above`);
    return 2;
  }
  return warningsExitCode(strict, outcome.warnings + outcome.failed, io, command);
}
