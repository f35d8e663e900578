// Forward KL (maximum likelihood on exact draws, mode-covering) against reverse KL (the ELBO,
// mode-seeking) on the same targets with the same flows (UDL §16.5.3).
// Run from the repository after `npm install`: node examples/forwardVsReverseKL.mjs [OUT_DIR]
import {
  initBackend, ring, mixture1d, RandomStream, makeDraws, createFlow, createDensityFlow,
  trainReverseKL, trainForwardKL, pairedForwardKL, densityFigure, densityFigure1d, exportFiguresPng,
} from 'flowsampler';

await initBackend();
const out = process.argv[2] ?? 'kl-figures';

/** KL(q‖p) = log Z − ELBO on n fresh flow draws, and the flow's draws as Draws for a figure. */
function judge(flow, target, label, n = 20000) {
  const { x, logq } = flow.sampleArrays(n, new RandomStream(`${label}/eval`));
  let elbo = 0;
  for (let r = 0; r < n; r++) elbo += (target.logDensity(x.subarray(r * target.dim, (r + 1) * target.dim)) - logq[r]) / n;
  const test = target.sampleExact(n, new RandomStream(`${label}/test`));
  const fwd = pairedForwardKL(flow, target, test, n);
  const draws = makeDraws({ sampler: label, target: target.name, chains: 1, draws: n, dim: target.dim, values: x, wallTimeMs: NaN, densityEvals: NaN, gradEvals: NaN, acceptance: NaN });
  return { reverse: target.logZ - elbo, forward: fwd.kl, draws };
}

const rows = [];
const figures = [];
for (const [target, make, steps] of [
  // A Gaussian in 1-D (two affine layers): it can cover one mode or straddle both, never fit both.
  // It starts a little right of the middle: at the exact middle reverse KL's gradient is symmetric.
  [mixture1d(), () => createFlow({ dim: 1, layers: [{ type: 'affine-diagonal', loc: [0.5] }, { type: 'affine-diagonal' }], seed: 1 }), 1500],
  // Spline coupling flows on the ring of 8 (one pass both ways, so both objectives are cheap).
  [ring(), () => createDensityFlow(2, { seed: 1 }), 2000],
]) {
  const results = [];
  for (const objective of ['reverse KL', 'forward KL']) {
    const flow = make();
    if (objective === 'reverse KL') await trainReverseKL(flow, target, { seed: 1, steps, earlyStopping: false });
    else await trainForwardKL(flow, target, { seed: 1, steps, learningRate: 5e-3 });
    const j = judge(flow, target, objective);
    results.push(j);
    rows.push(`${target.name.padEnd(6)} ${objective.padEnd(10)}  KL(q‖p) ${j.reverse.toFixed(3).padStart(7)}  KL(p‖q) ${j.forward.toFixed(3).padStart(8)}`);
    flow.dispose();
  }
  const draws = results.map((r) => r.draws);
  figures.push(target.dim === 1 ? { ...densityFigure1d(target, draws), id: `kl-${target.name}` } : { ...densityFigure(target, draws), id: `kl-${target.name}` });
}
for (const r of rows) console.log(r);
console.log(`wrote ${(await exportFiguresPng(figures, out)).join(', ')}`);
