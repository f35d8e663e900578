/**
 * Quality bars of the issue (slow, not part of `npm test`: `npm run test:quality`). Default
 * `createDefaultFlow` + `trainReverseKL` settings, fixed seeds, a 60 s training budget each, then 10 000 importance draws:
 *   PSIS k-hat < 0.7, Kish ESS/N >= 0.3, |log Z_IS − log Z| < 0.1
 * on the banana (x1 ~ N(0, 10²), b = 0.1), the 10-D funnel and the 50-D Gaussian with
 * condition number 100 (the anchors' matrix, test/fixtures/reference/gauss50).
 * FLOWSAMPLER_QUALITY_SEEDS=1,2,3 picks seeds; FLOWSAMPLER_QUALITY_VARIANT='{"flow":{...},"train":{...}}'
 * overrides options for ablations (see docs/flows.md). Prints one line per run, with the
 * importance sampler's default (the plain flow) and the defensively widened flow
 * (baseScale 'auto'); the bars are checked on the default.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend.js';
import { createDefaultFlow } from '../../src/flows/builder.js';
import { trainReverseKL } from '../../src/flows/train/reverseKL.js';
import { flowImportanceSample } from '../../src/samplers/flowImportance.js';
import { banana } from '../../src/targets/banana.js';
import { funnel } from '../../src/targets/funnel.js';
import { gaussianFromCovariance } from '../../src/targets/gaussian.js';
import type { Target } from '../../src/targets/target.js';
import { readCsvMatrix, referencePath } from '../helpers/fixtures.js';

const seeds = (process.env.FLOWSAMPLER_QUALITY_SEEDS ?? '1').split(',').map((s) => s.trim());
const variant = JSON.parse(process.env.FLOWSAMPLER_QUALITY_VARIANT ?? '{}') as { flow?: object; train?: object; gate?: boolean };
const only = process.env.FLOWSAMPLER_QUALITY_TARGETS?.split(',');

function gauss50(): Target {
  return gaussianFromCovariance(readCsvMatrix(referencePath('gauss50', 'gauss50_cov.csv')), 50, 'gauss50');
}

const targets: [string, () => Target][] = (
  [
    ['banana', () => banana()],
    ['funnel10', () => funnel({ dim: 10 })],
    ['gauss50', gauss50],
  ] as [string, () => Target][]
).filter(([n]) => !only || only.includes(n));

beforeAll(async () => {
  await initBackend();
});

describe('flow quality bars (60 s training budget)', () => {
  for (const [name, make] of targets) {
    for (const seed of seeds) {
      it(`${name}, seed ${seed}`, async () => {
        const target = make();
        const flow = createDefaultFlow(target.dim, { seed, ...(variant.flow ?? {}) });
        const r = await trainReverseKL(flow, target, { steps: 3000, seed, maxSeconds: 60, earlyStopping: false, ...(variant.train ?? {}) });
        const is = flowImportanceSample(flow, target, { n: 10000, seed: `${seed}/eval` });
        const widened = flowImportanceSample(flow, target, { n: 10000, seed: `${seed}/eval`, baseScale: 'auto' });
        let elbo = 0;
        for (const v of is.logWeights) elbo += v / is.logWeights.length;
        const line = {
          target: name,
          seed,
          variant,
          steps: r.steps,
          stoppedBy: r.stoppedBy,
          seconds: +r.seconds.toFixed(1),
          stepsPerSec: +(r.steps / r.seconds).toFixed(1),
          params: flow.parameterCount(),
          elboGap: +(target.logZ! - elbo).toFixed(3),
          logZError: +(is.logZ - target.logZ!).toFixed(3),
          logZSe: +is.logZSe.toFixed(3),
          essOverN: +(is.kishEss / 10000).toFixed(3),
          khat: +is.paretoK.toFixed(3),
          widened: {
            baseScale: +(widened.draws.info!.baseScale as number).toFixed(3),
            logZError: +(widened.logZ - target.logZ!).toFixed(3),
            essOverN: +(widened.kishEss / 10000).toFixed(3),
            khat: +widened.paretoK.toFixed(3),
          },
        };
        console.log('QUALITY ' + JSON.stringify(line));
        flow.dispose();
        if (variant.gate === false) return;
        expect(is.paretoK).toBeLessThan(0.7);
        expect(is.kishEss / 10000).toBeGreaterThanOrEqual(0.3);
        expect(Math.abs(is.logZ - target.logZ!)).toBeLessThan(0.1);
      }, 180_000);
    }
  }
});
