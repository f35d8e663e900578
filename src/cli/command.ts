/**
 * A CLI command: one file per command under src/cli/commands/, registered in src/cli/main.ts.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usageError.js';

export { UsageError };

export interface Command {
  name: string;
  /** One line for `flowsampler --help`. */
  summary: string;
  /** Full text for `flowsampler NAME --help`. */
  help: string;
  /** Runs the command; returns the exit code. */
  run(argv: string[], io: CommandIO): Promise<number>;
}

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborted on Ctrl-C; long work checks it and stops cleanly, keeping what has finished. */
  signal: AbortSignal;
  /** True when stderr is a terminal (progress bars); plain progress lines otherwise. */
  isTTY: boolean;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs in strict mode, with its errors turned into UsageErrors. */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  try {
    const args = attachNegativeNumbers(argv, options);
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UsageError(`${msg} (see 'flowsampler ${command} --help')`);
  }
}

/**
 * `--draws -5` would make parseArgs report an "ambiguous" option; joining it as `--draws=-5`
 * lets the option's own check say what is wrong with the value.
 */
function attachNegativeNumbers(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (name && options[name]?.type === 'string' && i + 1 < argv.length && /^-\d|^-\.\d/.test(argv[i + 1])) {
      out.push(`${a}=${argv[++i]}`);
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Parses a number option with a domain check, e.g. `--draws 1000`; main prefixes the command name. */
export function numberOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  check: (v: number) => boolean = () => true,
  requirement = 'a number',
): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !check(v)) {
    throw new UsageError(`--${name} must be ${requirement}, got '${raw}'`);
  }
  return v;
}

export function intOption(name: string, raw: string | undefined, fallback: number, min = 1): number {
  return numberOption(name, raw, fallback, (v) => Number.isInteger(v) && v >= min, `an integer >= ${min}`);
}
