/**
 * A flow trained as `train` trains it by reverse KL (at most 60 s), then the flow bars on 10 000
 * importance draws and the coverage check as `train` runs it: what the coverage tests assert on.
 */
import { trainFlowFor } from '../../src/cli/flowTraining.js';
import { flowCoverage } from '../../src/cli/coverageProbe.js';
import { flowImportanceSample } from '../../src/samplers/flowImportance.js';
import { parseTargetSpec } from '../../src/targets/registry.js';

export async function coverageOfDefaultFlow(spec: string, seed: number) {
  const target = parseTargetSpec(spec);
  const trained = await trainFlowFor(target, { seed, maxSeconds: 60, method: 'reverse-kl' });
  try {
    const is = flowImportanceSample(trained.flow, target, { n: 10_000, seed: `${seed}/bars` });
    const meetsBars = is.paretoK < 0.7 && is.kishEss / 10_000 >= 0.3 && Math.abs(is.logZ - target.logZ!) < 0.1;
    const cov = await flowCoverage(target, trained.flow, { seed });
    console.log(`${spec} seed ${seed}: k-hat ${is.paretoK.toFixed(2)}, ESS/N ${(is.kishEss / 1e4).toFixed(2)}, log Z err ${(is.logZ - target.logZ!).toFixed(3)}; coverage ${cov.cell}: ${cov.result.messages.join(' | ')}`);
    return { is, meetsBars, cov, logZError: is.logZ - target.logZ! };
  } finally {
    trained.flow.dispose();
  }
}
