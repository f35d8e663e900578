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
import { resolve } from 'node:path';
import { loadModelTarget } from '../models/load.js';

export const targetOptionHelp = [
  '  --model FILE       a model module (export default defineModel({...})), see docs/models.md',
  '  --data FILE        Stan JSON data for --model',
  '  --target SPEC      a built-in target, e.g. banana or banana:b=0.1 or funnel:dim=10 (see `flowsampler targets`)',
  '  --expr "EXPR"      a user density: log p̃ as a mathjs expression in x1, x2, ... (e.g. "-0.5*(x1^2+x2^2)");',
  '                     its dimension is the highest xK that appears',
].join('\n');

export const targetOptions = {
  target: { type: 'string' },
  expr: { type: 'string' },
  model: { type: 'string' },
  data: { type: 'string' },
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

/** --target, --expr or --model (with --data): the model file is imported, so this is async. */
export async function resolveTargetArgs(values: Record<string, unknown>, command: string): Promise<CompareTarget> {
  const model = values.model as string | undefined;
  const data = values.data as string | undefined;
  if (model === undefined) {
    if (data !== undefined) throw new UsageError(`--data needs --model (see 'flowsampler ${command} --help')`);
    return targetFromArgs(values, command);
  }
  if (values.target !== undefined || values.expr !== undefined) throw new UsageError(`give one of --target, --expr or --model (see 'flowsampler ${command} --help')`);
  if (model.trim() === '') throw new UsageError('--model is empty');
  const target = await loadModelTarget(model, data);
  const file = resolve(model);
  const dataFile = data === undefined ? null : resolve(data);
  return { target, model: { file, data: dataFile }, source: { kind: 'model', model: file, ...(dataFile ? { data: dataFile } : {}) } };
}

export function targetFromArgs(values: Record<string, unknown>, command: string): CompareTarget {
  const spec = values.target as string | undefined;
  const expr = values.expr as string | undefined;
  if (spec !== undefined && expr !== undefined) throw new UsageError(`give --target or --expr, not both (see 'flowsampler ${command} --help')`);
  if (spec === undefined && expr === undefined) throw new UsageError(`missing --target SPEC, --expr "EXPR" or --model FILE (see 'flowsampler ${command} --help')`);
  if (spec !== undefined) {
    if (spec.trim() === '') throw new UsageError('--target is empty');
    return { target: parseTargetSpec(spec), source: { kind: 'spec', spec } };
  }
  if (expr!.trim() === '') throw new UsageError('--expr is empty');
  const target: Target = expressionTarget(expr!);
  return { target, expression: expr, source: { kind: 'expr', expr: expr! } };
}
