/**
 * The three anchor targets of the flow benchmarks, exactly as in /work/shared/anchors/README.md:
 * banana2d (`banana()` defaults: b = 0.1, sd(x1) = 10), funnel10 (`funnel()` defaults: dim 10,
 * σ = 3) and gauss50 (the anchors' covariance CSV), with the anchor architecture's MADE width.
 */
import { readFileSync } from 'node:fs';
import { banana } from '../src/targets/banana.js';
import { funnel } from '../src/targets/funnel.js';
import { gaussianFromCovariance } from '../src/targets/gaussian.js';
import type { Target } from '../src/targets/target.js';

export const ANCHOR_DIR = process.env.FLOWSAMPLER_ANCHORS ?? '/work/shared/anchors';

export type BenchTargetName = 'banana2d' | 'funnel10' | 'gauss50';

export interface BenchTarget {
  name: BenchTargetName;
  dim: number;
  /** MADE hidden width of the anchor architecture (H = 64 / 128 / 256). */
  hidden: number;
  target: Target;
}

function readCsvMatrix(path: string): Float64Array {
  const rows = readFileSync(path, 'utf8').trim().split('\n');
  return Float64Array.from(rows.flatMap((r) => r.split(',').map(Number)));
}

export function benchTarget(name: BenchTargetName): BenchTarget {
  switch (name) {
    case 'banana2d':
      return { name, dim: 2, hidden: 64, target: banana() };
    case 'funnel10':
      return { name, dim: 10, hidden: 128, target: funnel() };
    case 'gauss50':
      return { name, dim: 50, hidden: 256, target: gaussianFromCovariance(readCsvMatrix(`${ANCHOR_DIR}/gauss50_cov.csv`), 50, 'gauss50') };
  }
}

export const BENCH_TARGETS: BenchTargetName[] = ['banana2d', 'funnel10', 'gauss50'];
