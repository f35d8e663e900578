// The README's library example: NUTS and a trained IAF flow on the banana of Haario et al.
// Run from the repository after `npm install`: node examples/quickstart.mjs
import {
  initBackend, banana, nuts, summarise,
  createDefaultFlow, trainReverseKL, flowImportanceSample,
} from 'flowsampler';

await initBackend(); // tfjs WebAssembly backend

const target = banana(); // x1 ~ N(0, 10²), x2 | x1 ~ N(10 − 0.1 x1², 1); log Z = log 20π

// A classical baseline: 4 NUTS chains with Stan-style warm-up.
const draws = await nuts(target, { seed: 1, chains: 4, draws: 1000 });
for (const row of summarise(draws)) {
  console.log(`nuts ${row.variable}: mean ${row.mean.toFixed(2)}, sd ${row.sd.toFixed(2)}, ` +
    `R-hat ${row.rhat.toFixed(3)}, ESS bulk ${row.ess_bulk.toFixed(0)}`);
}

// The flow: fit q to the target by reverse KL, then importance-sample with PSIS diagnostics.
const flow = createDefaultFlow(target.dim, { seed: 1 });
const fit = await trainReverseKL(flow, target, { seed: 1, steps: 1500 });
const is = flowImportanceSample(flow, target, { n: 10_000, seed: 2 });
console.log(`flow: ${fit.steps} steps in ${fit.seconds.toFixed(1)} s, PSIS k-hat ${is.paretoK.toFixed(2)}, ` +
  `ESS/N ${(is.kishEss / 10_000).toFixed(2)}, log Z ${is.logZ.toFixed(3)} ± ${is.logZSe.toFixed(3)} ` +
  `(exact ${target.logZ.toFixed(3)})`);
flow.dispose();
