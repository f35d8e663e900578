/**
 * The page's target choice as a Target, the way the CLI reads --target and --expr: a built-in
 * spec through the target registry, an expression through expressionTarget (validated, compiled,
 * differentiated symbolically). Both workers build their own copy from the same choice.
 */
import { expressionTarget, parseTargetSpec, ParameterError, type Target } from '../../src/index.js';
import type { TargetChoice, TargetSummary } from './protocol.js';

export function makeTarget(choice: TargetChoice): Target {
  if (choice.kind === 'builtin') {
    if (choice.spec.trim() === '') throw new ParameterError('choose a built-in target');
    return parseTargetSpec(choice.spec);
  }
  return expressionTarget(choice.expr);
}

export function summarizeTarget(t: Target): TargetSummary {
  return { name: t.name, dim: t.dim, description: t.description, exact: Boolean(t.sampleExact) };
}
