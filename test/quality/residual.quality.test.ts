/**
 * The i-ResNet bar of issue 15 (slow, not part of `npm test`: `npm run test:quality`): an
 * i-ResNet flow (bench/residual.ts BANANA_CONFIG: 8 blocks x + g(x), g with hidden [64, 64],
 * Lipschitz bound 0.9, ActNorm between blocks) fitted by maximum likelihood to 10 000 exact
 * banana draws (x1 ~ N(0, 10²), b = 0.1), 3000 steps of batch 256; held-out NLL on 10 000 more
 * draws, evaluated with the exact log-det, minus the banana's entropy log(2π σ₁) + 1 must be at
 * most 0.1 nats. Trained with the exact log-det, and with the Russian-roulette estimator
 * (FLOWSAMPLER_QUALITY_RESIDUAL=exact,roulette picks; default both). The standard error of the
 * held-out NLL is ~0.01 nats.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend.js';
import type { ResidualLogDetConfig } from '../../src/flows/bijectors/residualLogDet.js';
import { fitIResNetBanana } from '../../bench/residual.js';

const methods = (process.env.FLOWSAMPLER_QUALITY_RESIDUAL ?? 'exact,roulette').split(',').map((s) => s.trim());
const seeds = (process.env.FLOWSAMPLER_QUALITY_SEEDS ?? '1').split(',').map((s) => Number(s.trim()));

beforeAll(async () => {
  await initBackend();
});

describe.each(methods)('i-ResNet on the banana by maximum likelihood (%s log-det)', (method) => {
  it.each(seeds)('seed %s: held-out NLL − entropy <= 0.1', (seed) => {
    const r = fitIResNetBanana({ method } as ResidualLogDetConfig, seed);
    console.log(JSON.stringify(r));
    expect(r.skipped).toBe(0);
    expect(r.gap).toBeLessThanOrEqual(0.1);
  }, 3_600_000);
});
