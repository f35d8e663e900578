/**
 * The multi-scale architecture (src/flows/bijectors/multiScale.ts) beyond the bijector contract
 * (which checks its round trip and log-det against a brute-force Jacobian):
 * - level dimensions for any D, and factored-out variables really leave: later levels cannot
 *   touch them;
 * - log q is a density: it integrates to 1 on a grid (2-D: a level of 2 variables and one of 1);
 * - data-dependent initialisation reaches the ActNorm layers inside the levels;
 * - bad configurations are errors naming the level; save/load, including the size check of a
 *   damaged file's inner layers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { MultiScale, levelDims } from '../src/flows/bijectors/multiScale.js';
import { Flow } from '../src/flows/flow.js';
import { createFamilyFlow, createMultiScaleFlow, defaultMultiScaleLevels } from '../src/flows/builder.js';
import { selectEngine } from '../src/flows/engine/select.js';
import { flowFromJSON, flowToJSON } from '../src/flows/serialize.js';
import { DimensionError, ParameterError, ParseError } from '../src/core/errors.js';
import { expectClose, layerProgram, points, randomizeParams } from './helpers/bijectorContract.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('multi-scale levels', () => {
  it('halve the variables level by level, for any dimension', () => {
    expect(levelDims(64, 4)).toEqual([64, 32, 16, 8]);
    expect(levelDims(7, 3)).toEqual([7, 4, 2]);
    expect(levelDims(5, 2)).toEqual([5, 3]);
    expect(levelDims(1, 1)).toEqual([1]);
    expect([2, 3, 4, 5, 64, 100].map(defaultMultiScaleLevels)).toEqual([1, 2, 2, 3, 4, 4]);
  });

  it('factored-out variables are not touched by later levels', () => {
    const b = new MultiScale({ dim: 7, seed: 1, levels: [[{ type: 'coupling', hidden: [8] }], [{ type: 'coupling', hidden: [8] }], [{ type: 'lu-linear' }]] });
    const flow = new Flow([b]);
    randomizeParams(flow, 'ms', 0.5);
    const x = points(10, 7, 'ms-x');
    const engine = selectEngine('auto');
    const [z] = engine.evaluate(flow.store, layerProgram(b, true), [{ values: x, rows: 10, cols: 7 }]);
    // Change every parameter of levels 1 and 2: the first ⌊7/2⌋ = 3 outputs must not move.
    for (const p of [...b.levels[1], ...b.levels[2]].flatMap((l) => l.params())) if (p.trainable) flow.store.set(p, Float32Array.from(p.values(), (v) => v + 0.3));
    const [z2] = engine.evaluate(flow.store, layerProgram(b, true), [{ values: x, rows: 10, cols: 7 }]);
    let moved = 0;
    for (let r = 0; r < 10; r++) {
      for (let j = 0; j < 3; j++) expect(z2[r * 7 + j]).toBe(z[r * 7 + j]);
      for (let j = 3; j < 7; j++) moved = Math.max(moved, Math.abs(z2[r * 7 + j] - z[r * 7 + j]));
    }
    expect(moved).toBeGreaterThan(1e-3);
    flow.dispose();
  });

  it('log q integrates to 1 (2-D grid, levels of 2 and 1 variables)', () => {
    const b = new MultiScale({
      dim: 2,
      seed: 2,
      levels: [[{ type: 'coupling', hidden: [8] }, { type: 'coupling', hidden: [8], parity: 1 }], [{ type: 'elementwise', transformer: { kind: 'rq-spline', bins: 4, bound: 3 } }]],
    });
    const flow = new Flow([b]);
    randomizeParams(flow, 'ms-int', 0.3);
    const m = 400;
    const lo = -9;
    const h = 18 / m;
    const grid = new Float64Array(m * m * 2);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) grid.set([lo + (i + 0.5) * h, lo + (j + 0.5) * h], (i * m + j) * 2);
    const lq = flow.logProbArrays(grid);
    const mass = lq.reduce((s, v) => s + Math.exp(v), 0) * h * h;
    // Midpoint rule on a smooth density, box at ±9: error far below 1e-3.
    expect(Math.abs(mass - 1)).toBeLessThan(1e-3);
    flow.dispose();
  });

  it('data-dependent initialisation reaches the ActNorm layers inside every level', () => {
    // One step per level, [ActNorm, LU, coupling] base side first: in the density direction each
    // level ends with its ActNorm, so after initialisation every coordinate of z (factored out
    // after level 0, or left by level 1) is exactly standardised. Uninitialised, z would keep the
    // data's offsets (0..5) and sd 3.
    const flow = createMultiScaleFlow(6, { levels: 2, stepsPerLevel: 1, hidden: [8], seed: 3 });
    const n = 2000;
    const x = points(n, 6, 'ms-data', 3).map((v, k) => v + (k % 6));
    flow.initializeFromData(x);
    const [z] = selectEngine('auto').evaluate(flow.store, flow.densityProgram(), [{ values: x, rows: n, cols: 6 }]);
    for (let j = 0; j < 6; j++) {
      let m = 0;
      let v = 0;
      for (let r = 0; r < n; r++) m += z[r * 6 + j] / n;
      for (let r = 0; r < n; r++) v += (z[r * 6 + j] - m) ** 2 / (n - 1);
      expect(Math.abs(m), `mean of z${j}`).toBeLessThan(1e-3);
      expect(Math.abs(Math.sqrt(v) - 1), `sd of z${j}`).toBeLessThan(1e-3);
    }
    flow.dispose();
  });

  it('bad configurations are errors that name the level', () => {
    expect(() => new MultiScale({ dim: 2, levels: [[{ type: 'actnorm' }], [{ type: 'actnorm' }], [{ type: 'actnorm' }]] })).toThrow(/leave a level of 1 variable/);
    expect(() => new MultiScale({ dim: 4, levels: [[{ type: 'nope' }]] })).toThrow(/level 0 layer 0 has unknown type "nope"/);
    expect(() => new MultiScale({ dim: 4, levels: [[{ type: 'actnorm' }], [{ type: 'actnorm', dim: 3 }]] })).toThrow(DimensionError);
    expect(() => new MultiScale({ dim: 3, levels: [[{ type: 'actnorm' }], [{ type: 'coupling', hidden: [4], partition: [0, 1] }]] })).toThrow(/multi-scale level 1 \(2 variables\), layer 0 \(coupling\)/);
    expect(() => new MultiScale({ dim: 3, levels: [] })).toThrow(ParameterError);
    expect(() => createMultiScaleFlow(1)).toThrow(/dim >= 2/);
  });
});

describe('multi-scale flows', () => {
  it('save and load: same log q; a damaged inner layer is a ParseError before anything allocates', () => {
    const flow = createMultiScaleFlow(5, { hidden: [8], stepsPerLevel: 2, seed: 4 });
    randomizeParams(flow, 'ms-save', 0.3);
    const json = flowToJSON(flow);
    const again = flowFromJSON(json);
    const x = points(30, 5, 'ms-save-x');
    expectClose(again.logProbArrays(x), flow.logProbArrays(x), 1e-6, 'log q after load');
    const bad = JSON.parse(JSON.stringify(json));
    bad.architecture[0].config.levels[1][2].hidden = [1e8];
    expect(() => flowFromJSON(bad)).toThrow(ParseError);
    expect(() => flowFromJSON(bad)).toThrow(/layer 0\.1\.2 \(coupling\).*needs at least/);
    flow.dispose();
    again.dispose();
  });

  it('has the same steps as the single-scale coupling flow, and fewer parameters at equal widths', () => {
    const ms = createMultiScaleFlow(64, { hidden: [32, 32], stepsPerLevel: 2, seed: 5 });
    const ss = createFamilyFlow('coupling', 64, { layers: 8, hidden: [32, 32], lu: true, actnorm: true, affine: 'none', seed: 5 });
    const b = ms.bijectors[0] as MultiScale;
    expect(b.levels.flat().filter((l) => l.type === 'coupling').length).toBe(8);
    expect(ms.parameterCount()).toBeLessThan(ss.parameterCount());
    ms.dispose();
    ss.dispose();
  });
});
