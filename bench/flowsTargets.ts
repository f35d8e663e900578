/**
 * The three anchor targets of the flow benchmarks, exactly as the anchors define them (bench/anchors/targets.py):
 * banana2d (`banana()` defaults: b = 0.1, sd(x1) = 10), funnel10 (`funnel()` defaults: dim 10,
 * σ = 3) and gauss50 (test/fixtures/reference/gauss50), with the anchor architecture's MADE width.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { banana } from '../src/targets/banana.js';
import { funnel } from '../src/targets/funnel.js';
import { gaussianFromCovariance } from '../src/targets/gaussian.js';
import type { Target } from '../src/targets/target.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The PyTorch anchor scripts (bench/anchors; FLOWSAMPLER_ANCHORS points elsewhere). */
export const ANCHOR_DIR = process.env.FLOWSAMPLER_ANCHORS ?? join(HERE, 'anchors');
const GAUSS50_COV = join(HERE, '..', 'test', 'fixtures', 'reference', 'gauss50', 'gauss50_cov.csv');

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
      return { name, dim: 50, hidden: 256, target: gaussianFromCovariance(readCsvMatrix(GAUSS50_COV), 50, 'gauss50') };
  }
}

export const BENCH_TARGETS: BenchTargetName[] = ['banana2d', 'funnel10', 'gauss50'];

/** The target alone, by name: the factory worker threads load (a TargetSource of kind 'module'). */
export function benchTargetDensity(name: BenchTargetName): Target {
  return benchTarget(name).target;
}
