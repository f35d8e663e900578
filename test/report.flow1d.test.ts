/**
 * The 1-D flow figure (src/report/flow1dFigure.ts): three panels whose curves are the flow's
 * own base density, forward map and density, and a spec that compiles to Vega and renders.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { createDensityFlow } from '../src/flows/densityFlow.js';
import { flow1dFigure } from '../src/report/flow1dFigure.js';
import { figureToSvg } from '../src/report/png.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('flow1dFigure', () => {
  it('draws the base density, the map and q from the flow itself; refuses other dimensions', async () => {
    const flow = createDensityFlow(1, { seed: 3 });
    const data = Float64Array.from({ length: 200 }, (_, i) => Math.sin(i) * 2);
    const fig = flow1dFigure(flow, { data, trueLogDensity: (x) => -0.5 * x * x - 0.5 * Math.log(2 * Math.PI) });
    const rows = (fig.spec.data as { values: Record<string, number | string>[] }).values;
    const dens = rows.filter((r) => r.panel === 'density' && r.kind === 'flow q(x)');
    // q on its grid is the flow's logProbArrays; the base panel integrates to about 1 over [−3.5, 3.5].
    const lq = flow.logProbArrays(Float64Array.of(dens[10].x as number));
    expect(dens[10].y as number).toBeCloseTo(Math.exp(lq[0]), 6);
    const base = rows.filter((r) => r.panel === 'base');
    let mass = 0;
    for (let k = 1; k < base.length; k++) mass += ((base[k].y as number) + (base[k - 1].y as number)) * 0.5 * ((base[k].z as number) - (base[k - 1].z as number));
    expect(mass).toBeGreaterThan(0.999);
    // The forward map is monotone.
    const map = rows.filter((r) => r.panel === 'map').map((r) => r.x as number);
    for (let k = 1; k < map.length; k++) expect(map[k]).toBeGreaterThan(map[k - 1]);
    expect(rows.some((r) => r.panel === 'hist')).toBe(true);
    const svg = await figureToSvg(fig);
    expect(svg).toContain('<svg');
    expect(() => flow1dFigure(createDensityFlow(2))).toThrow(/dim 2/);
    flow.dispose();
  });
});
