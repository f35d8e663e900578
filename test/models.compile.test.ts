/**
 * The compiled program (src/models/compile.ts) against the interpreter it replaces: the same log
 * density and gradient, at one point and in batches, on every shipped posterior and on graphs
 * built to break loop fusion (shifted views of a value computed in the same loop, a reduction
 * read back by a vector op, copies, a value read twice, a support violation).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ops, lpdf, lupdf, type Var, type Value } from '../src/models/index.js';
import { segments } from '../src/models/compile.js';
import { loadModelTarget } from '../src/models/load.js';
import type { ModelTarget } from '../src/models/model.js';
import type { Program } from '../src/models/program.js';
import { RandomStream } from '../src/core/random.js';
import { expectGradient, fnTarget, weights } from './helpers/modelGrad.js';
import { POSTERIOR_DIR, POSTERIORS } from './helpers/posteriorReference.js';

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)) || a === b;

/** Compiled and interpreted agree at `points` (one point each, and all of them as one batch). */
function expectSameAsInterpreter(t: ModelTarget, points: Float64Array[]): void {
  const compiled: Program = t.program;
  const interp = compiled.interpreted();
  const dim = t.dim;
  const g1 = new Float64Array(dim);
  const g2 = new Float64Array(dim);
  for (const x of points) {
    const a = compiled.valueAndGrad(x, g1);
    const b = interp.valueAndGrad(x, g2);
    expect(close(a, b, 1e-12), `${t.name}: log density ${a} compiled vs ${b} interpreted`).toBe(true);
    for (let j = 0; j < dim; j++) expect(close(g1[j], g2[j], 1e-10), `${t.name}: gradient[${j}] ${g1[j]} vs ${g2[j]}`).toBe(true);
    expect(close(compiled.value(x), b, 1e-12)).toBe(true);
    // A plain array works as well as a Float64Array (the compiled code reads the point directly).
    expect(close(compiled.valueAndGrad(Array.from(x), g1), b, 1e-12)).toBe(true);
  }
  const n = points.length;
  const xb = new Float64Array(n * dim);
  points.forEach((p, r) => xb.set(p, r * dim));
  const lpA = new Float64Array(n), lpB = new Float64Array(n);
  const gA = new Float64Array(n * dim), gB = new Float64Array(n * dim);
  compiled.valueAndGradBatch(xb, n, lpA, gA);
  interp.valueAndGradBatch(xb, n, lpB, gB);
  for (let r = 0; r < n; r++) expect(close(lpA[r], lpB[r], 1e-12), `${t.name}: batch row ${r}`).toBe(true);
  for (let k = 0; k < n * dim; k++) expect(close(gA[k], gB[k], 1e-10), `${t.name}: batch gradient ${k}`).toBe(true);
}

function pointsAround(t: ModelTarget, n: number, scale: number, seed: string): Float64Array[] {
  const rng = new RandomStream(seed);
  const x0 = t.initialPoint!();
  return Array.from({ length: n }, () => Float64Array.from(x0, (v) => v + scale * rng.normal()));
}

describe('compiled model programs', () => {
  for (const name of [...POSTERIORS, 'eight_schools_centered']) {
    it(`${name}: the same value and gradient as the interpreter, one point and batched`, async () => {
      const t = await loadModelTarget(join(POSTERIOR_DIR, name, 'model.mjs'), join(POSTERIOR_DIR, name, 'data.json'));
      // One row more than a chunk of the batch path: the last chunk is a single row.
      expectSameAsInterpreter(t, pointsAround(t, t.program.chunkRows + 1, 0.3, `compile/${name}`));
    });
  }

  it('fuses the regression and its likelihood into one loop although the prior is added in between', async () => {
    const name = 'kidiq_interaction';
    const t = await loadModelTarget(join(POSTERIOR_DIR, name, 'model.mjs'), join(POSTERIOR_DIR, name, 'data.json'));
    const segs = segments((t.program as unknown as { graph: { instrs: [] } }).graph.instrs);
    const loops = segs.filter((s) => s.kind === 'run' && s.L > 1);
    expect(loops.length).toBe(1);
    expect(segs.some((s) => s.kind === 'call')).toBe(false);
  });

  const n = 6;
  const x = Float64Array.from({ length: n }, (_, i) => 0.3 * Math.sin(1.7 * i + 0.4));
  const w = weights(n - 1);
  const hostile: Record<string, (x: Var) => Value> = {
    // A view across two pieces written by the same loop: element i reads element i + 1.
    'a shifted view of values from the same loop': (x) => {
      const st = ops.stack([ops.exp(ops.slice(x, 0, 3)), ops.mul(2, ops.slice(x, 3, 3))]);
      return ops.dot(ops.slice(w, 0, 3), ops.square(ops.sub(ops.slice(st, 1, 3), ops.slice(x, 0, 3))));
    },
    // A reduction's result broadcast back into a vector op of the same length.
    'a reduction read back by a vector op': (x) => {
      const v = ops.tanh(x);
      const s = ops.sum(v);
      return ops.sum(ops.mul(ops.sub(v, ops.div(s, n)), ops.add(x, s)));
    },
    'copies of scalars and vectors, a value read twice': (x) => {
      const v = ops.sin(x);
      const st = ops.stack([ops.at(v, 2), ops.slice(v, 0, 3), ops.mul(ops.at(v, 0), ops.at(v, 5)), ops.at(x, 1)]);
      return ops.add(ops.sum(ops.mul(st, st)), ops.sum(ops.mul(v, v)));
    },
    // One σ for every element: the likelihood through its sum of squares (y, μ and σ all model values; then data y and σ).
    'a normal with one sigma, as a sufficient statistic': (x) => {
      const one = lupdf.normal(ops.mul(x, 2), ops.at(x, 0), ops.exp(ops.at(x, 1)));
      return ops.add(one, lpdf.normal(w, ops.slice(x, 1, n - 1), 0.7));
    },
    'a scalar recursion': (x) => {
      let s: Var = ops.at(x, 0) as Var;
      for (let k = 1; k < n; k++) s = ops.add(ops.mul(0.7, ops.tanh(s)), ops.mul(ops.at(x, k), s)) as Var;
      return lupdf.normal(s, 0.2, ops.exp(ops.at(x, 1)));
    },
  };
  for (const [label, f] of Object.entries(hostile)) {
    it(`${label}: exact gradient, the same as the interpreter`, () => {
      const t = fnTarget(label, n, f) as ModelTarget;
      expectGradient(t, x);
      const rng = new RandomStream(`compile/${label}`);
      expectSameAsInterpreter(t, Array.from({ length: 5 }, () => Float64Array.from(x, (v) => v + 0.4 * rng.normal())));
    });
  }

  it('a support violation at one element is −∞ on both paths, and the gradient stays finite', () => {
    const t = fnTarget('support', 3, (x) => lupdf.normal(x, 0, ops.sub(x, 0.1))) as ModelTarget;
    const bad = Float64Array.of(0.5, -0.2, 0.7);
    const g = new Float64Array(3);
    expect(t.program.valueAndGrad(bad, g)).toBe(-Infinity);
    expect(t.program.interpreted().value(bad)).toBe(-Infinity);
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    expectSameAsInterpreter(t, [Float64Array.of(0.5, 0.3, 0.7)]);
    // One σ for every element: the guard is decided before the loop.
    const one = fnTarget('support, one sigma', 3, (x) => lupdf.normal(x, 0, ops.sub(ops.at(x, 0), 1))) as ModelTarget;
    expect(one.program.valueAndGrad(bad, g)).toBe(-Infinity);
    expect(one.program.interpreted().value(bad)).toBe(-Infinity);
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    expectSameAsInterpreter(one, [Float64Array.of(1.5, 0.3, 0.7)]);
  });
});
