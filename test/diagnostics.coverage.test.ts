/**
 * The coverage diagnostic (src/diagnostics/coverage.ts): the decision rules on known inputs,
 * the sd standard errors against their sampling distribution, and the whole check on proposals
 * whose coverage is known exactly: a Gaussian proposal that misses one mode of the 1-D mixture,
 * one that straddles both, and one that is 20 % too thin.
 * The check on trained default flows (gmm40, ring, mix1d, banana, funnel, gauss50) is in
 * bench/coverage.ts and in the opt-in quality test (test/coverage.quality.test.ts).
 */
import { describe, it, expect } from 'vitest';
import { bonferroniZ, coverageCheck, marginalSds } from '../src/diagnostics/coverage.js';
import { logZEstimate } from '../src/diagnostics/importance.js';
import { RandomStream } from '../src/core/random.js';
import { mixture1d } from '../src/targets/mixture.js';
import { gaussian } from '../src/targets/gaussian.js';
import { temperedSmc } from '../src/samplers/smc.js';
import { nuts } from '../src/samplers/nuts.js';
import { parameterChains } from '../src/core/draws.js';
import { mcseSd } from '../src/diagnostics/mcse.js';
import type { Target } from '../src/targets/target.js';

describe('coverageCheck rules', () => {
  it('flags a log Z gap beyond both the joint SE and minGap, in one direction only', () => {
    const missed = coverageCheck({ proposal: { logZ: -0.69, se: 0.005 }, reference: { logZ: 0.0, se: 0.01 } });
    expect(missed.flagged).toBe(true);
    expect(missed.status).toBe('missed-mass');
    expect(missed.missedMass).toBeCloseTo(1 - Math.exp(-0.69), 12);
    expect(missed.messages[0]).toMatch(/misses about 50 % of the mass/);
    // Significant but tiny (0.02 nats): not flagged, as for a good fit with a tiny SE.
    expect(coverageCheck({ proposal: { logZ: -0.02, se: 0.003 }, reference: { logZ: 0, se: 0.003 } }).flagged).toBe(false);
    // Large but within the noise.
    expect(coverageCheck({ proposal: { logZ: -0.2, se: 0.05 }, reference: { logZ: 0, se: 0.05 } }).flagged).toBe(false);
    // The flow above the reference: the reference missed mass; reported, not flagged.
    const above = coverageCheck({ proposal: { logZ: 0.3, se: 0.01 }, reference: { logZ: 0, se: 0.01 } });
    expect(above.flagged).toBe(false);
    expect(above.messages[0]).toMatch(/reference run likely missed mass/);
    // A reference without SE cannot decide.
    const noSe = coverageCheck({ proposal: { logZ: -1, se: 0.01 }, reference: { logZ: 0, se: NaN } });
    expect(noSe.flagged).toBe(false);
    expect(noSe.inconclusive).toBe(true);
    expect(coverageCheck({ proposal: { logZ: 0, se: 0.1 } }).status).toBe('unchecked');
  });

  it('flags a thin coordinate by z beyond the Bonferroni threshold and a 5 % drop', () => {
    const probeSd = { sd: [1, 1, 3], se: [0.01, 0.01, 0.01] };
    const r = coverageCheck({ proposal: { logZ: 0, se: 0.01 }, proposalSd: { sd: [0.99, 0.9, 2.5], se: [0.01, 0.01, 0.01] }, probeSd, paramNames: ['a', 'b', 'c'] });
    expect(r.status).toBe('thin-tails');
    expect(r.thin.map((t) => t.param)).toEqual(['b', 'c']);
    expect(r.thin[1].ratio).toBeCloseTo(2.5 / 3, 12);
    // Wider than the probe is never thin (a probe stuck in one mode is narrow).
    expect(coverageCheck({ proposal: { logZ: 0, se: 0.01 }, proposalSd: { sd: [5, 5, 5], se: [0.1, 0.1, 0.1] }, probeSd }).flagged).toBe(false);
    expect(bonferroniZ(1)).toBeCloseTo(3, 12); // max(3, 2.58)
    expect(bonferroniZ(50)).toBeCloseTo(3.719, 3); // Φ⁻¹(1 − 0.005 / 50)
  });

  it('marginalSds gives the sd and a standard error matching its spread over replicates', () => {
    const rng = new RandomStream('sds');
    const n = 400;
    const r = replicates(() => {
      const x = rng.fillNormal(new Float64Array(n * 2));
      for (let i = 0; i < n; i++) x[2 * i + 1] *= 3;
      const s = marginalSds(x, 2);
      return { sd: s.sd[1], se: s.se[1] };
    });
    expect(Math.abs(r.mean - 3)).toBeLessThan(5 * r.mcse + 0.01);
    // The SE estimate agrees with the replicate spread (3/√(2n) ≈ 0.106) to within ~10 % (its own noise ~4 %).
    expect(Math.abs(r.seMean / r.spread - 1)).toBeLessThan(0.15);
  });

  it('weighted marginalSds: importance draws of N(0, 1) weighted toward N(0, 1.2²) give sd 1.2, with an SE matching the spread', () => {
    const rng = new RandomStream('weighted-sds');
    const n = 1000;
    const r = replicates(() => {
      const x = rng.fillNormal(new Float64Array(n));
      // log p − log q for p = N(0, 1.2²), q = N(0, 1), up to a constant.
      const s = marginalSds(x, 1, Float64Array.from(x, (v) => -0.5 * (v / 1.2) ** 2 + 0.5 * v * v));
      return { sd: s.sd[0], se: s.se[0] };
    });
    // The self-normalised estimate's bias is O(1/n), far below 5 MCSE of the mean here (~0.003).
    expect(Math.abs(r.mean - 1.2)).toBeLessThan(5 * r.mcse + 0.005);
    expect(Math.abs(r.seMean / r.spread - 1)).toBeLessThan(0.15);
    // Unweighted, draws of q have sd 1: the weights are what moves the estimate to 1.2.
    expect(marginalSds(rng.fillNormal(new Float64Array(n)), 1).sd[0]).toBeLessThan(1.1);
    expect(() => marginalSds(new Float64Array(4), 1, [0, 0])).toThrow(/2 log weights for 4 draws/);
  });
});

/** 300 replicates of an sd estimate: their mean, spread, the mean's MCSE and the mean reported SE. */
function replicates(one: () => { sd: number; se: number }, reps = 300) {
  const sds: number[] = [];
  let seMean = 0;
  for (let k = 0; k < reps; k++) {
    const r = one();
    sds.push(r.sd);
    seMean += r.se / reps;
  }
  const mean = sds.reduce((a, b) => a + b, 0) / reps;
  const spread = Math.sqrt(sds.reduce((a, b) => a + (b - mean) ** 2, 0) / (reps - 1));
  return { mean, spread, mcse: spread / Math.sqrt(reps), seMean };
}

/** Importance sampling of `target` with the Gaussian proposal N(m, s²) in 1-D: log Ẑ, SE and the proposal's draws. */
function gaussianProposal(target: Target, m: number, s: number, n: number, seed: string) {
  const x = new RandomStream(seed).fillNormal(new Float64Array(n));
  const lw = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = m + s * x[i];
    const lq = -0.5 * ((x[i] - m) / s) ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
    lw[i] = target.logDensity(Float64Array.of(x[i])) - lq;
  }
  return { ...logZEstimate(lw), x };
}

describe('coverageCheck against SMC and NUTS on proposals of known coverage', () => {
  it('flags a proposal on one mode of N(±2, 0.5²), not one that covers both, and flags a 20 % thin one', async () => {
    const t = mixture1d();
    const ref = await temperedSmc(t, { seed: 1, chains: 10, draws: 400 });
    const probe = await nuts(gaussian({ dim: 1 }), { seed: 2, chains: 4, draws: 500, warmup: 300 });
    const oneMode = gaussianProposal(t, 2, 0.5, 10_000, 'one');
    const missed = coverageCheck({ proposal: { logZ: oneMode.logZ, se: oneMode.se }, reference: { logZ: ref.logZ, se: ref.logZSe } });
    expect(missed.flagged).toBe(true);
    expect(missed.missedMass!).toBeGreaterThan(0.4);
    expect(missed.missedMass!).toBeLessThan(0.6);
    const both = gaussianProposal(t, 0, 2.3, 10_000, 'both');
    expect(coverageCheck({ proposal: { logZ: both.logZ, se: both.se }, reference: { logZ: ref.logZ, se: ref.logZSe } }).flagged).toBe(false);

    // Thin tails on N(0, 1): a proposal with sd 0.8 against the NUTS probe.
    const ch = parameterChains(probe, 0);
    const all = ch.flatMap((c) => Array.from(c));
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const sdProbe = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1));
    const probeSd = { sd: [sdProbe], se: [mcseSd(ch)] };
    const thin = gaussianProposal(gaussian({ dim: 1 }), 0, 0.8, 10_000, 'thin');
    const okay = gaussianProposal(gaussian({ dim: 1 }), 0, 1, 10_000, 'ok');
    const r = coverageCheck({ proposal: { logZ: thin.logZ, se: thin.se }, proposalSd: marginalSds(thin.x, 1), probeSd });
    expect(r.status).toBe('thin-tails');
    expect(coverageCheck({ proposal: { logZ: okay.logZ, se: okay.se }, proposalSd: marginalSds(okay.x, 1), probeSd }).flagged).toBe(false);
  });
});
