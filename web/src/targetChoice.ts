/**
 * The page's target choice as a Target, the way the CLI reads --target and --expr: a built-in
 * spec through the target registry, an expression through expressionTarget (validated, compiled,
 * differentiated symbolically). Both workers build their own copy from the same choice.
 */
import { expressionTarget, parseTargetSpec, FlowsamplerError, ParameterError, type Target } from '../../src/index.js';
import type { FromWorker, TargetChoice, TargetSummary } from './protocol.js';

export function makeTarget(choice: TargetChoice): Target {
  if (choice.kind === 'builtin') {
    if (choice.spec.trim() === '') throw new ParameterError('choose a built-in target');
    return parseTargetSpec(choice.spec);
  }
  return expressionTarget(choice.expr);
}

/** The run's target, or null after posting the one-line reason it cannot be built. */
export function targetForRun(choice: TargetChoice, run: number, post: (m: FromWorker) => void): Target | null {
  try {
    return makeTarget(choice);
  } catch (e) {
    if (!(e instanceof FlowsamplerError)) throw e;
    post({ type: 'error', run, where: 'target', message: e.message });
    return null;
  }
}

export function summarizeTarget(t: Target): TargetSummary {
  return { name: t.name, dim: t.dim, description: t.description, exact: Boolean(t.sampleExact) };
}
