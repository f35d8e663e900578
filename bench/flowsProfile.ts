/**
 * Kernel profile of one reverse-KL training step and one forward pass (256 samples + log q) of
 * the anchor IAF, for both implementations of bench/flows.ts ('d1' and 'fast'): number of tfjs
 * kernels, the most frequent kernels, and kernel time by name (tf.profile; the times include
 * profiling overhead and are only indicative on a busy machine — the counts are exact).
 *
 * Run: `npx tsx bench/flowsProfile.ts [banana2d|funnel10|gauss50 ...]`
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/core/backend.js';
import { anchorFlow, trainingStep, BATCH, type FlowVariant } from './flows.js';
import { BENCH_TARGETS, benchTarget, type BenchTargetName } from './flowsTargets.js';

export interface KernelProfile {
  target: BenchTargetName;
  variant: FlowVariant;
  trainKernels: number;
  forwardKernels: number;
  /** name -> [count, total kernel ms] for the training step, most time first. */
  trainByName: Record<string, [number, number]>;
}

export async function profileFlows(names: BenchTargetName[] = BENCH_TARGETS): Promise<KernelProfile[]> {
  await initBackend();
  const out: KernelProfile[] = [];
  for (const name of names) {
    const t = benchTarget(name);
    for (const variant of ['d1', 'fast'] as FlowVariant[]) {
      const flow = anchorFlow(t.dim, t.hidden, variant);
      const step = trainingStep(flow, t, variant);
      step.step();
      step.step();
      // tf.profile returns an object that the next profile call reuses: copy what we need first.
      const p = await tf.profile(() => {
        step.step();
      });
      const byName: Record<string, [number, number]> = {};
      for (const k of p.kernels) {
        const e = (byName[k.name] ??= [0, 0]);
        e[0]++;
        e[1] += Number(k.kernelTimeMs) || 0;
      }
      const trainKernels = p.kernels.length;
      const eps = tf.randomNormal([BATCH, t.dim]) as tf.Tensor2D;
      const p2 = await tf.profile(() => {
        const r = flow.forwardFromNoise(eps);
        tf.dispose([r.x, r.logq]);
      });
      const sorted = Object.fromEntries(Object.entries(byName).sort((a, b) => b[1][1] - a[1][1]));
      out.push({ target: name, variant, trainKernels, forwardKernels: p2.kernels.length, trainByName: sorted });
      eps.dispose();
      step.dispose();
      flow.dispose();
    }
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const names = (process.argv.slice(2).length ? process.argv.slice(2) : BENCH_TARGETS) as BenchTargetName[];
  for (const r of await profileFlows(names)) {
    const top = Object.entries(r.trainByName)
      .slice(0, 10)
      .map(([k, [c, ms]]) => `${k} ${c}x ${ms.toFixed(2)}ms`)
      .join(', ');
    console.log(`${r.target} ${r.variant}: ${r.trainKernels} kernels/training step, ${r.forwardKernels} kernels/forward | ${top}`);
  }
}
