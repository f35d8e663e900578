/**
 * The engine's design alternatives, measured on the same flows in one run
 * (docs/flows-performance.md, "The engine"):
 *
 * - the heap engine (the chosen design: a reverse-mode tape of `Ops` over wasm-heap buffers,
 *   transformers as kernels with a hand-written backward);
 * - the same tape with the gated-affine transformer written in primitive ops instead of its
 *   kernel (what a tape of primitives alone would cost: 9 ops and their backward rules per
 *   layer instead of one kernel);
 * - the tfjs engine (the same layer definitions mapped to tfjs ops, tfjs's autodiff).
 *
 * On the anchors' IAF (bench/flows.ts: 6 gated layers, batch 256) for banana2d and funnel10:
 * training steps/s (median of equal blocks in one run) and sampling with log q (draws/s).
 * Writes bench/results/engineChoices.json (npm run bench -- engineChoices, or alone: `npx tsx bench/engineChoices.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { cpus, loadavg } from 'node:os';
import { initBackend } from '../src/core/backend.js';
import { Autoregressive } from '../src/flows/bijectors/autoregressive.js';
import type { Transformer } from '../src/flows/bijectors/transformers.js';
import type { Ops } from '../src/flows/engine/ops.js';
import type { EngineChoice } from '../src/flows/engine/engine.js';
import { anchorFlow, BLOCK_STEPS, samplingBlocks, trainingBlocks } from './flows.js';
import { benchTarget, type BenchTargetName } from './flowsTargets.js';
import { isMain, optionValue } from './standalone.js';


/** y = σ(s)(x − m) + m, log|det| = Σ log σ(s), in primitive ops (σ = exp(−softplus(−s))). */
function primitiveGatedAffine(base: Transformer): Transformer {
  return {
    ...base,
    apply<V>(ops: Ops<V>, x: V, theta: V, inverse: boolean) {
      const D = ops.shape(x)[1];
      const m = ops.cols(theta, 0, D);
      const logSig = ops.neg(ops.softplus(ops.neg(ops.cols(theta, D, D))));
      const logDet = ops.sumCols(logSig);
      if (!inverse) return { y: ops.add(ops.mul(ops.exp(logSig), ops.sub(x, m)), m), logDet };
      return { y: ops.add(ops.mul(ops.exp(ops.neg(logSig)), ops.sub(x, m)), m), logDet: ops.neg(logDet) };
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchEngineChoices(opts: { targets?: BenchTargetName[]; blocks?: number; log?: (l: string) => void } = {}) {
  const log = opts.log ?? console.log;
  await initBackend();
  const names = opts.targets ?? (['banana2d', 'funnel10'] as BenchTargetName[]);
  const blocks = opts.blocks ?? 5;
  const results: Record<string, Record<string, { train: number; sample: number; trainBlocks: number[] }>> = {};
  const load: number[] = [loadavg()[0]];
  for (const n of names) {
    const t = benchTarget(n);
    results[n] = {};
    for (const [variant, engine, primitive] of [
      ['heap (kernels)', 'auto', false],
      ['heap (primitive ops)', 'auto', true],
      ['tfjs', 'tfjs', false],
    ] as [string, EngineChoice, boolean][]) {
      const flow = anchorFlow(t, engine);
      if (primitive) {
        for (const b of flow.bijectors) if (b instanceof Autoregressive) (b as { transformer: Transformer }).transformer = primitiveGatedAffine(b.transformer);
      }
      const slow = engine === 'tfjs';
      const train = await trainingBlocks(flow, t, { blocks: slow ? 3 : blocks, steps: slow ? Math.ceil(BLOCK_STEPS[n] / 3) : BLOCK_STEPS[n] });
      const sample = samplingBlocks(flow, slow ? 3 : 5);
      results[n][variant] = { train: +median(train).toPrecision(4), sample: +median(sample).toPrecision(4), trainBlocks: train.map((r) => +r.toPrecision(4)) };
      flow.dispose();
      log(`${n} ${variant}: train ${median(train).toFixed(1)} steps/s, sample ${median(sample).toExponential(2)}/s`);
    }
  }
  load.push(loadavg()[0]);
  const result = {
    bench: 'engineChoices',
    started: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version, tfjs: tf.version.tfjs, load },
    config: { flow: 'anchors IAF: 6 gated layers, batch 256', blocks },
    results,
  };
  return result;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const { writeResults } = await import('./run.js');
  const res = await benchEngineChoices({ targets: optionValue('--targets', argv)?.split(',') as BenchTargetName[] | undefined, log: (l) => console.log(l) });
  console.log(await writeResults('engineChoices', res));
}
