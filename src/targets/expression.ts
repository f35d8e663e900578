/**
 * Targets from a mathjs expression string, e.g. `-(x1^2)/8 - (x2 - x1^2/4)^2/2`, giving log p̃.
 *
 * Safety first: the parsed tree is validated before anything else touches it. Allowed are
 * numbers, the variables x1..xD, the constants pi and e, the operators + - * / ^ (and unary
 * + -), parentheses, and one-argument calls of the functions in EXPRESSION_FUNCTIONS. Anything
 * else (assignments, function definitions, accessors, indices, objects, arrays, blocks,
 * conditionals, ranges, comparisons, unknown symbols or functions such as import or evaluate)
 * is a ParseError naming the offending piece. Only validated trees are compiled, by our own
 * code generators, never by mathjs's evaluator:
 * - float64: the tree becomes a JavaScript function of `x` (identifiers come from a fixed table,
 *   numbers are printed by String(number), so no user text reaches the generated source);
 * - gradient: mathjs `derivative` per variable (symbolic; mathjs's own simplify is off because it
 *   takes minutes on a 10-term sum, expressionCompile.ts folds constants instead), validated
 *   and compiled the same way;
 * - tfjs: the tree becomes a composition of tf ops (differentiable).
 *
 * Dimension: D is the highest variable index, and every one of x1..xD must appear (a missing
 * variable would make p̃ flat, i.e. improper, in that coordinate; it is almost always a typo).
 * An explicit `dim` option is only checked against that.
 * A NaN value (e.g. log of a negative number) is reported as log p̃ = -Infinity, outside the
 * support, on both paths. A coordinate the expression does not depend on (its derivative folds
 * to 0) is a ParseError: the density would be flat, i.e. improper, along it.
 */
import * as tf from '@tensorflow/tfjs';
import { derivative, parse, type MathNode } from 'mathjs';
import { ParseError, ParameterError } from '../core/errors.js';
import type { Target } from './target.js';
import { checkBatch, checkPoint } from './checks.js';
import { compileValue, compileVector, irToTf, toIr } from './expressionCompile.js';

/** Functions a user may call (one argument each); all have float64 and tfjs implementations. */
export const EXPRESSION_FUNCTIONS = [
  'exp', 'log', 'sqrt', 'abs', 'sin', 'cos', 'tan', 'sinh', 'cosh', 'tanh', 'atan', 'log1p', 'expm1', 'square', 'cube',
] as const;

/** Functions that only appear in mathjs derivatives (tan' = sec², tanh' = sech²). */
const DERIVATIVE_ONLY = ['sec', 'sech', 'csc', 'csch', 'cot', 'coth', 'sign'] as const;

const OPERATORS: Record<string, number[]> = {
  add: [2, Infinity],
  subtract: [2, 2],
  multiply: [2, Infinity],
  divide: [2, 2],
  pow: [2, 2],
  unaryMinus: [1, 1],
  unaryPlus: [1, 1],
};

const MAX_DIM = 10000;
const ALLOWED_TEXT = `allowed: numbers, x1..xD, pi, e, + - * / ^, parentheses and ${EXPRESSION_FUNCTIONS.join(', ')}`;

/* eslint-disable @typescript-eslint/no-explicit-any -- mathjs node fields are untyped unions */
type AnyNode = MathNode & Record<string, any>;

/**
 * Checks that every node is allowed; returns the variable indices (1-based) that appear.
 * `functions` is the set of callable names (the user set, or with derivative-only additions).
 */
function validate(root: MathNode, functions: ReadonlySet<string>, what: string): Set<number> {
  const vars = new Set<number>();
  const visit = (node: AnyNode): void => {
    const piece = () => `'${safeText(node)}'`;
    switch (node.type) {
      case 'ConstantNode':
        if (typeof node.value !== 'number') throw new ParseError(`${what}: constant ${piece()} is not a number (${ALLOWED_TEXT})`);
        if (!Number.isFinite(node.value)) throw new ParseError(`${what}: constant ${piece()} is not finite`);
        return;
      case 'SymbolNode': {
        const name = String(node.name);
        if (name === 'pi' || name === 'e') return;
        const m = /^x([1-9][0-9]*)$/.exec(name);
        if (!m) throw new ParseError(`${what}: unknown symbol '${name}' (${ALLOWED_TEXT})`);
        const i = Number(m[1]);
        if (i > MAX_DIM) throw new ParseError(`${what}: variable '${name}' is beyond x${MAX_DIM}`);
        vars.add(i);
        return;
      }
      case 'ParenthesisNode':
        visit(node.content);
        return;
      case 'OperatorNode': {
        const arity = OPERATORS[node.fn as string];
        if (!arity || !Object.prototype.hasOwnProperty.call(OPERATORS, node.fn)) {
          throw new ParseError(`${what}: operator '${String(node.op)}' in ${piece()} is not allowed (${ALLOWED_TEXT})`);
        }
        if (node.args.length < arity[0] || node.args.length > arity[1]) {
          throw new ParseError(`${what}: operator '${String(node.op)}' with ${node.args.length} arguments in ${piece()}`);
        }
        node.args.forEach(visit);
        return;
      }
      case 'FunctionNode': {
        const fnNode = node.fn as AnyNode;
        if (fnNode?.type !== 'SymbolNode') throw new ParseError(`${what}: call of a computed function in ${piece()} is not allowed`);
        const name = String(fnNode.name);
        if (!functions.has(name)) throw new ParseError(`${what}: unknown or forbidden function '${name}' (${ALLOWED_TEXT})`);
        if (node.args.length !== 1) throw new ParseError(`${what}: function '${name}' takes exactly one argument, got ${node.args.length} in ${piece()}`);
        node.args.forEach(visit);
        return;
      }
      default: {
        const kinds: Record<string, string> = {
          AssignmentNode: 'assignment',
          FunctionAssignmentNode: 'function definition',
          AccessorNode: 'property or index access',
          IndexNode: 'index',
          ObjectNode: 'object',
          ArrayNode: 'array',
          BlockNode: 'block of several statements',
          ConditionalNode: 'conditional (a ? b : c)',
          RangeNode: 'range',
          RelationalNode: 'comparison',
        };
        const kind = kinds[String(node.type)] ?? `construct ${String(node.type)}`;
        throw new ParseError(`${what}: ${kind} ${piece()} is not allowed (${ALLOWED_TEXT})`);
      }
    }
  };
  visit(root as AnyNode);
  return vars;
}

/** Node text for messages, cut short; never throws. */
function safeText(node: MathNode): string {
  let s: string;
  try {
    s = node.toString();
  } catch {
    s = String((node as AnyNode).type);
  }
  s = s.replace(/\s+/g, ' ');
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Rewrites the functions mathjs cannot differentiate into ones it can (for the derivative only). */
function forDerivative(root: MathNode): MathNode {
  return root.transform((node: AnyNode) => {
    if (node.type === 'FunctionNode' && node.fn?.type === 'SymbolNode') {
      const arg = `(${node.args[0].toString()})`;
      switch (node.fn.name) {
        case 'log1p':
          return parse(`log(1 + ${arg})`);
        case 'expm1':
          return parse(`exp(${arg}) - 1`);
        case 'square':
          return parse(`${arg}^2`);
        case 'cube':
          return parse(`${arg}^3`);
      }
    }
    return node;
  });
}

export interface ExpressionOptions {
  name?: string;
  /**
   * Expected dimension, checked against the expression (it must use exactly x1..x{dim}); a
   * larger dim would leave coordinates flat, i.e. the density improper.
   */
  dim?: number;
  /** Plotting box per dimension, if the caller knows one. */
  plotBounds?: [number, number][];
}

/** A target whose log p̃ is the given mathjs expression in x1..xD. */
export function expressionTarget(expr: string, options: ExpressionOptions = {}): Target {
  try {
    return buildExpressionTarget(expr, options);
  } catch (e) {
    // Absurdly deep nesting overflows the recursive walkers: say so instead of a stack dump.
    if (e instanceof RangeError) throw new ParseError(`expression: too deeply nested (${e.message})`);
    throw e;
  }
}

function buildExpressionTarget(expr: string, options: ExpressionOptions): Target {
  if (typeof expr !== 'string' || expr.trim() === '') throw new ParseError('expression: a non-empty expression string is required');
  let tree: MathNode;
  try {
    tree = parse(expr);
  } catch (e) {
    throw new ParseError(`expression: ${e instanceof Error ? e.message : String(e)}`);
  }
  const userFns = new Set<string>(EXPRESSION_FUNCTIONS);
  const vars = validate(tree, userFns, 'expression');
  if (vars.size === 0) throw new ParseError('expression: no variables; use x1, x2, ... for the coordinates');
  const dim = Math.max(...vars);
  const missing = Array.from({ length: dim }, (_, i) => i + 1).filter((i) => !vars.has(i));
  if (missing.length > 0) {
    throw new ParseError(
      `expression: x${dim} appears, so the dimension is ${dim}, but ${missing.map((i) => `x${i}`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not (every one of x1..x${dim} must appear)`,
    );
  }
  if (options.dim !== undefined && options.dim !== dim) {
    throw new ParameterError(
      `invalid parameter dim = ${String(options.dim)}: the expression uses x1..x${dim}, so its dimension is ${dim}` +
        (typeof options.dim === 'number' && options.dim > dim ? ` (x${dim + 1}.. would be flat, an improper density)` : ''),
    );
  }
  const name = options.name ?? 'expression';
  if (options.plotBounds !== undefined && options.plotBounds.length !== dim) {
    throw new ParameterError(`invalid parameter plotBounds: expected ${dim} [lo, hi] pairs, got ${options.plotBounds.length}`);
  }

  const gradFns = new Set<string>([...EXPRESSION_FUNCTIONS, ...DERIVATIVE_ONLY]);
  const diffable = forDerivative(tree);
  const partials = Array.from({ length: dim }, (_, i) => {
    let d: MathNode;
    try {
      // simplify: false — mathjs's simplify takes minutes on a 10-term sum; toIr folds instead.
      d = derivative(diffable, `x${i + 1}`, { simplify: false });
    } catch (e) {
      throw new ParseError(`expression: cannot differentiate with respect to x${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
    }
    validate(d, gradFns, `derivative by x${i + 1}`);
    return d;
  });

  const partialIrs = partials.map((p) => toIr(p));
  // A coordinate the density does not depend on (its derivative folds to 0, e.g. `0*x2` or
  // `x2 - x2`) makes p̃ flat along it: improper, and every sampler would run off to infinity.
  const flat = partialIrs.map((ir, i) => (ir.k === 'c' && ir.v === 0 ? i + 1 : 0)).filter((i) => i > 0);
  if (flat.length > 0) {
    throw new ParseError(
      `expression: log p̃ does not depend on ${flat.map((i) => `x${i}`).join(', ')} (its derivative is 0), so the density is flat, i.e. improper, along ${flat.length === 1 ? 'it' : 'them'}`,
    );
  }
  const valueFn = compileValue(toIr(tree));
  const gradFn = compileVector(partialIrs);
  const tfFn = irToTf(toIr(tree));

  return {
    name,
    dim,
    description: `log p̃ = ${expr}`,
    params: { expression: expr },
    ...(options.plotBounds ? { plotBounds: options.plotBounds.map((b) => [b[0], b[1]] as [number, number]) } : {}),
    initialPoint: () => new Float64Array(dim),
    logDensity(x) {
      checkPoint(name, dim, x);
      const v = valueFn(x);
      return Number.isNaN(v) ? -Infinity : v;
    },
    gradLogDensity(x, out) {
      checkPoint(name, dim, x);
      const v = valueFn(x);
      if (Number.isNaN(v)) {
        out.fill(0, 0, dim);
        return -Infinity;
      }
      gradFn(x, out);
      return v;
    },
    logProb(x) {
      checkBatch(name, dim, x);
      return tf.tidy(() => {
        // tfjs's unstack gradient fails for a single column, so a 1-D batch is reshaped instead.
        const cols = dim === 1 ? [tf.reshape(x, [x.shape[0]])] : tf.unstack(x, 1);
        let y = tfFn(cols);
        // A sum of constants and cancelled terms may come out as a scalar: give it shape [n].
        if (y.rank === 0) y = tf.add(y, tf.zeros([x.shape[0]]));
        // NaN (log of a negative number, ...) is outside the support, as on the float64 path.
        return tf.where(tf.isNaN(y), tf.fill([x.shape[0]], -Infinity), y) as tf.Tensor1D;
      });
    },
  };
}
