/**
 * --target SPEC / --expr EXPR, shared by compare, train and sample: exactly one of the two.
 * Unknown targets and bad parameters come back from the target registry as FlowsamplerErrors
 * (one line, exit 2).
 */
import type { Target } from '../targets/target.js';
import { parseTargetSpec } from '../targets/registry.js';
import { expressionTarget } from '../targets/expression.js';
import { UsageError } from './command.js';
import type { CompareTarget } from './compareRun.js';

export const targetOptionHelp = [
  '  --target SPEC      a built-in target, e.g. banana or banana:b=0.1 or funnel:dim=10 (see `flowsampler targets`)',
  '  --expr "EXPR"      a user density: log p̃ as a mathjs expression in x1, x2, ... (e.g. "-0.5*(x1^2+x2^2)");',
  '                     its dimension is the highest xK that appears',
].join('\n');

export const targetOptions = {
  target: { type: 'string' },
  expr: { type: 'string' },
} as const;

/**
 * Log densities usually start with a minus sign ("-0.5*x1^2"), which util.parseArgs would take
 * for an option; `--expr VALUE` is therefore rewritten to `--expr=VALUE` before parsing.
 */
export function protectExprValue(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--expr' && i + 1 < argv.length) out.push(`--expr=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export function targetFromArgs(values: Record<string, unknown>, command: string): CompareTarget {
  const spec = values.target as string | undefined;
  const expr = values.expr as string | undefined;
  if (spec !== undefined && expr !== undefined) throw new UsageError(`give --target or --expr, not both (see 'flowsampler ${command} --help')`);
  if (spec === undefined && expr === undefined) throw new UsageError(`missing --target SPEC or --expr "EXPR" (see 'flowsampler ${command} --help')`);
  if (spec !== undefined) {
    if (spec.trim() === '') throw new UsageError('--target is empty');
    return { target: parseTargetSpec(spec), source: { kind: 'spec', spec } };
  }
  if (expr!.trim() === '') throw new UsageError('--expr is empty');
  const target: Target = expressionTarget(expr!);
  return { target, expression: expr, source: { kind: 'expr', expr: expr! } };
}
