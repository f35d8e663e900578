/**
 * Mode counts in the report (issue 13): the 2-D density panels print each mode's count at its
 * centre and name the modes visited in their titles; 1-D targets get histogram panels under the
 * exact density. Rendered to SVG in Node, so the specs are checked by Vega itself.
 */
import { describe, it, expect } from 'vitest';
import { densityFigure } from '../src/report/densityFigure.js';
import { densityFigure1d } from '../src/report/densityFigure1d.js';
import { figureSet } from '../src/report/figures.js';
import { figureToSvg } from '../src/report/png.js';
import { makeDraws } from '../src/core/draws.js';
import { RandomStream } from '../src/core/random.js';
import { mixture1d, ring } from '../src/targets/mixture.js';
import { modeVisits } from '../src/diagnostics/modes.js';
import type { Target } from '../src/targets/target.js';

/** Exact draws of `t`, or (with `onlyMode`) draws around one mode's centre only. */
function exactDraws(t: Target, sampler: string, n: number, onlyMode?: number) {
  const rng = new RandomStream(sampler);
  let x: Float64Array;
  if (onlyMode === undefined) x = t.sampleExact!(n, rng);
  else {
    const c = t.modes!.center!(onlyMode);
    x = Float64Array.from({ length: n * t.dim }, (_, i) => c[i % t.dim] + 0.1 * rng.normal());
  }
  return makeDraws({ sampler, chains: 1, draws: n, dim: t.dim, values: x, wallTimeMs: 1, densityEvals: n, gradEvals: 0, acceptance: 1 });
}

describe('mode counts in the density panels', () => {
  it('2-D: counts at every mode centre, visited modes in the titles', async () => {
    const t = ring();
    const draws = [exactDraws(t, 'exact', 800), exactDraws(t, 'stuck', 400, 2)];
    const modeCounts = Object.fromEntries(draws.map((d) => [d.sampler, Array.from(modeVisits(d.values, 2, t.modes!).counts)]));
    expect(modeCounts.stuck[2]).toBe(400);
    const fig = densityFigure(t, draws, { modeCounts });
    const svg = await figureToSvg(fig);
    expect(svg).toContain('exact: 8/8 modes');
    expect(svg).toContain('stuck: 1/8 modes');
    // 8 labels per panel, the stuck panel's zeros among them.
    const texts = [...svg.matchAll(/<text[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
    expect(texts).toContain(400);
    expect(texts.filter((v) => v === 0).length).toBeGreaterThanOrEqual(7);
    expect(fig.caption).toMatch(/fair share/);
  });

  it('1-D: histogram panels under the exact density, in the figure set of a 1-D target', async () => {
    const t = mixture1d();
    const draws = [exactDraws(t, 'exact', 1000), exactDraws(t, 'one-mode', 500, 1)];
    const modeCounts = Object.fromEntries(draws.map((d) => [d.sampler, Array.from(modeVisits(d.values, 1, t.modes!).counts)]));
    const fig = densityFigure1d(t, draws, { modeCounts });
    const svg = await figureToSvg(fig);
    expect(svg).toContain('one-mode: 1/2 modes (0 / 500)');
    expect(svg).toMatch(/exact: 2\/2 modes/);
    expect((svg.match(/class="mark-line/g) ?? []).length).toBe(2);
    expect(svg).toMatch(/class="mark-rect/);
    const set = figureSet(t, draws, [], [], { modeCounts });
    expect(set.map((f) => f.id)).toContain('density-x1');
  });
});
