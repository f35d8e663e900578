/**
 * The `flowsampler` command. Errors a user can cause (FlowsamplerError, including UsageError)
 * become one line on stderr and exit code 2; anything else is a bug and keeps its stack.
 */
import { FlowsamplerError, AbortedError } from '../core/errors.js';
import type { Command, CommandIO } from './command.js';
import { commands } from './commands/index.js';

/** Messages are one line on the terminal, whatever a user-supplied value contained. */
function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ');
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: flowsampler <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'flowsampler <command> --help' for a command's options.",
  ].join('\n');
}

/**
 * Runs the CLI. `ioOverride` (optional, for tests and embedding) replaces the output functions,
 * the terminal flag or the abort signal; by default stdout/stderr and Ctrl-C are used.
 */
export async function main(argv: string[], ioOverride: Partial<CommandIO> = {}): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupted: finishing cleanly (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const io: CommandIO = {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    signal: controller.signal,
    isTTY: Boolean(process.stderr.isTTY),
    ...ioOverride,
  };
  // An external signal (tests, embedding) also stops the run, like Ctrl-C.
  if (ioOverride.signal) io.signal = AbortSignal.any([ioOverride.signal, controller.signal]);
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      io.out(usage());
      return name ? 0 : 2;
    }
    if (name === '--version' || name === '-v') {
      io.out('flowsampler 0.1.0');
      return 0;
    }
    const cmd: Command | undefined = commands.find((c) => c.name === name);
    if (!cmd) {
      io.err(`flowsampler: unknown command '${name}' (commands: ${commands.map((c) => c.name).join(', ')})`);
      return 2;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(cmd.help);
      return 0;
    }
    const code = await cmd.run(rest, io);
    // A Ctrl-C that came after the last cooperative check (e.g. while files were written) still
    // means the user stopped the run: say so in the exit code.
    if (code === 0 && io.signal.aborted) {
      io.err(`flowsampler ${name}: interrupted (the outputs written are complete)`);
      return 130;
    }
    return code;
  } catch (e) {
    if (e instanceof AbortedError) {
      io.err(`flowsampler ${name}: ${e.message}`);
      return 130;
    }
    if (e instanceof FlowsamplerError) {
      io.err(`flowsampler ${name}: ${oneLine(e.message)}`);
      return 2;
    }
    // An allocation the size checks did not foresee: still one line, not a stack dump.
    if (e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array length|Array buffer allocation/i.test(e.message)) {
      io.err(`flowsampler ${name}: out of memory (${e.message}); use smaller sizes`);
      return 2;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
