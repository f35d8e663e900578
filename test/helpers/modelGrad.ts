/**
 * Gradient checks for written-once models: central differences with one Richardson step
 * (error O(h⁴)), compared with the reverse-mode gradient to 1e-6 relative to max(1, |∇|∞).
 */
import { expect } from 'vitest';
import { defineModel, param, ops, type Var, type Value } from '../../src/models/index.js';
import type { Target } from '../../src/targets/target.js';

/** Central difference with Richardson extrapolation at step h. */
export function fdGradient(f: (x: Float64Array) => number, x: Float64Array, h = 1e-3): Float64Array {
  const g = new Float64Array(x.length);
  const xw = x.slice();
  const d = (i: number, s: number) => {
    xw[i] = x[i] + s;
    const fp = f(xw);
    xw[i] = x[i] - s;
    const fm = f(xw);
    xw[i] = x[i];
    return (fp - fm) / (2 * s);
  };
  for (let i = 0; i < x.length; i++) {
    const s = h * Math.max(1, Math.abs(x[i]));
    g[i] = (4 * d(i, s / 2) - d(i, s)) / 3;
  }
  return g;
}

/** Max-norm error of the target's gradient at x against finite differences, relative to max(1, |fd|∞). */
export function gradientError(t: Target, x: Float64Array): { rel: number; grad: Float64Array; fd: Float64Array; value: number } {
  const grad = new Float64Array(t.dim);
  const value = t.gradLogDensity(x, grad);
  const fd = fdGradient((z) => t.logDensity(z), x);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(grad[i] - fd[i]));
    scale = Math.max(scale, Math.abs(fd[i]));
  }
  return { rel: err / scale, grad, fd, value };
}

export function expectGradient(t: Target, x: Float64Array, tol = 1e-6): void {
  const r = gradientError(t, x);
  expect(Number.isFinite(r.value), `${t.name}: value ${r.value} at ${Array.from(x)}`).toBe(true);
  expect(r.rel, `${t.name}: gradient ${Array.from(r.grad)} vs finite differences ${Array.from(r.fd)}`).toBeLessThan(tol);
}

/** A model of one unconstrained vector x of length n whose log density is f(x) (summed). */
export function fnTarget(name: string, n: number, f: (x: Var) => Value): Target {
  return defineModel({
    name,
    parameters: { x: param.vector(n) },
    logDensity: ({ x }) => ops.sum(f(x)),
  }).compile();
}

/** Deterministic pseudo-random weights in [0.5, 1.5) (no shared stream needed). */
export function weights(n: number, seed = 1): Float64Array {
  let s = seed * 2654435761 >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return 0.5 + s / 2 ** 32;
  });
}
