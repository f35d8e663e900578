/**
 * Spline flows beyond the bijector contract (which test/flows.bijectors.test.ts runs on every
 * spline layer): a fresh spline layer is close to the identity, gradients reach every parameter,
 * bad configs are named errors, a spline flow's one-pass log q equals its density direction.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { Autoregressive } from '../src/flows/bijectors/autoregressive.js';
import { Flow } from '../src/flows/flow.js';
import { createSplineFlow } from '../src/flows/builder.js';
import { layerProgram, points, randomizeParams, expectClose } from './helpers/bijectorContract.js';
import { ParameterError } from '../src/core/errors.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const spline = (c: Partial<{ bins: number; bound: number; hidden: number[]; order: number[]; dim: number }> = {}) =>
  new Autoregressive({ dim: c.dim ?? 3, hidden: c.hidden ?? [16, 16], order: c.order, seed: 5, transformer: { kind: 'rq-spline', bins: c.bins, bound: c.bound } });

describe('spline layers', () => {
  it('start close to the identity', () => {
    const b = spline();
    const flow = new Flow([b]);
    const z = points(50, 3, 'id', 1.5);
    const [y, ld] = flow.activeEngine().evaluate(flow.store, layerProgram(b, false), [{ values: z, rows: 50, cols: 3 }]);
    // Bins are 2B/K = 1 wide; output weights of scale 0.01 move knots by a few hundredths.
    for (let k = 0; k < z.length; k++) expect(Math.abs(y[k] - z[k])).toBeLessThan(0.15);
    for (const v of ld) expect(Math.abs(v)).toBeLessThan(0.3);
    flow.dispose();
  });

  it('gradients reach every parameter, on both engines', () => {
    const b = spline({ hidden: [8, 8], bins: 5 });
    const flow = new Flow([b]);
    randomizeParams(flow, 'g', 0.3);
    const z = points(64, 3, 'gz', 1);
    for (const engine of ['heap', 'tfjs'] as const) {
      flow.engine = engine;
      const r = flow.activeEngine().differentiate(flow.store, layerProgram(b, false), [{ values: z, rows: 64, cols: 3 }], ([y]) => [Float64Array.from(y, (v) => 2 * v), new Float64Array(64).fill(1)]);
      for (const p of flow.trainableParams()) {
        const g = r.paramGrads.get(p)!;
        expect(g.every(Number.isFinite), `${engine} ${p.name}`).toBe(true);
        expect(g.some((x) => x !== 0), `${engine} ${p.name}`).toBe(true);
      }
    }
    flow.dispose();
  });

  it('reject bad configs with named errors', () => {
    expect(() => spline({ bins: 1 })).toThrow(ParameterError);
    expect(() => spline({ bound: 0 })).toThrow(/bound/);
    expect(() => spline({ order: [1, 1, 2] })).toThrow(/permutation/);
    expect(() => new Autoregressive({ dim: 2, hidden: [8], transformer: { kind: 'cubic' } as never })).toThrow(/unknown transformer 'cubic'/);
  });

  it("a spline flow's one-pass log q equals its density direction, on both engines", () => {
    const flow = createSplineFlow(3, { layers: 2, hidden: [12, 12], bins: 5, seed: 7 });
    randomizeParams(flow, 'flow', 0.3);
    for (const engine of ['heap', 'tfjs'] as const) {
      flow.engine = engine;
      const s = flow.sampleArrays(40, 11);
      expectClose(flow.logProbArrays(s.x), s.logq, 1e-5, `${engine} log q`);
    }
    flow.dispose();
  });
});
