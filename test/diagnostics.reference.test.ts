/**
 * Golden values from R: posterior 1.4.0 and loo 2.5.1 (R 4.2.2), produced by the reference
 * generator described in test/fixtures/reference/diagnostics/README.md. Every value in
 * reference.json (values and extra of the chain cases, the PSIS cases) and every row of the
 * weights files must agree to 1e-6 relative. Deterministic: no false-failure budget needed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  essBasic,
  essBulk,
  essMean,
  essMedian,
  essQuantile,
  essSd,
  essTail,
  mcseMean,
  mcseQuantile,
  mcseSd,
  psis,
  rhat,
  rhatBasic,
  rhatBulk,
  rhatTail,
  summarise,
  paretoKCategoryLoo,
} from '../src/diagnostics/index.js';
import { makeDraws } from '../src/core/draws.js';
import { mean, quantileSorted, sd, sortedCopy } from '../src/diagnostics/stats.js';
import { pool } from '../src/diagnostics/chains.js';

import { referencePath } from './helpers/fixtures.js';

const refDir = referencePath('diagnostics');

type Json = number | string | null;
interface Case {
  kind: 'chains' | 'psis';
  input: string;
  weights_file?: string;
  values: Record<string, Json>;
  extra?: Record<string, Json>;
  pareto_k_category?: string;
}

function num(v: Json): number {
  if (v === null) return NaN;
  if (typeof v === 'string') return v === 'Inf' ? Infinity : v === '-Inf' ? -Infinity : NaN;
  return v;
}

/** Relative agreement to 1e-6; NA (null) must come out as NaN. */
function expectClose(got: number, want: Json, what: string): void {
  const w = num(want);
  if (Number.isNaN(w)) {
    expect(got, what).toBeNaN();
    return;
  }
  const rel = Math.abs(got - w) / Math.max(Math.abs(w), 1e-300);
  expect(rel, `${what}: got ${got}, want ${w}`).toBeLessThan(1e-6);
}

function readCsvColumns(file: string): { header: string[]; cols: Float64Array[] } {
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const cols = header.map(() => new Float64Array(lines.length - 1));
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split(',');
    for (let j = 0; j < header.length; j++) cols[j][i - 1] = Number(f[j]);
  }
  return { header, cols };
}

const ref = JSON.parse(readFileSync(path.join(refDir, 'reference.json'), 'utf8')) as { cases: Record<string, Case> };
const chainCases = Object.entries(ref.cases).filter(([, c]) => c.kind === 'chains');
const psisCases = Object.entries(ref.cases).filter(([, c]) => c.kind === 'psis');

const chainFns: Record<string, (x: Float64Array[]) => number> = {
  ess_bulk: essBulk,
  ess_tail: essTail,
  ess_basic: (x) => essBasic(x),
  rhat,
  rhat_basic: (x) => rhatBasic(x),
  mcse_mean: mcseMean,
  mcse_sd: mcseSd,
  mcse_q5: (x) => mcseQuantile(x, 0.05),
  mcse_q95: (x) => mcseQuantile(x, 0.95),
  ess_mean: essMean,
  ess_q5: (x) => essQuantile(x, 0.05),
  ess_q95: (x) => essQuantile(x, 0.95),
  rhat_bulk: rhatBulk,
  rhat_tail: rhatTail,
  ess_sd: essSd,
  ess_median: essMedian,
  mcse_median: (x) => mcseQuantile(x, 0.5),
  ess_basic_nosplit: (x) => essBasic(x, false),
  rhat_basic_nosplit: (x) => rhatBasic(x, false),
  mean: (x) => mean(pool(x)),
  sd: (x) => sd(pool(x)),
  q5: (x) => quantileSorted(sortedCopy(pool(x)), 0.05),
  q95: (x) => quantileSorted(sortedCopy(pool(x)), 0.95),
};

describe('diagnostics match posterior 1.4.0', () => {
  it('has chain cases to check', () => {
    expect(chainCases.length).toBeGreaterThanOrEqual(3);
  });

  for (const [name, c] of chainCases) {
    it(`${name}: every value and extra`, () => {
      const { cols } = readCsvColumns(path.join(refDir, c.input));
      const fields = { ...c.values, ...(c.extra ?? {}) };
      for (const [key, want] of Object.entries(fields)) {
        const fn = chainFns[key];
        expect(fn, `no implementation mapped for reference field ${key}`).toBeDefined();
        expectClose(fn(cols), want, `${name}.${key}`);
      }
    });

    it(`${name}: summarise gives posterior's summarise_draws columns`, () => {
      const { cols } = readCsvColumns(path.join(refDir, c.input));
      const n = cols[0].length;
      const values = new Float64Array(cols.length * n);
      cols.forEach((x, ci) => values.set(x, ci * n));
      const draws = makeDraws({
        sampler: 'reference', chains: cols.length, draws: n, dim: 1, values, paramNames: ['theta'],
        wallTimeMs: 0, densityEvals: 0, gradEvals: 0, acceptance: 1,
      });
      const [row] = summarise(draws);
      expect(Object.keys(row)).toEqual(['variable', 'mean', 'median', 'sd', 'mad', 'q5', 'q95', 'rhat', 'ess_bulk', 'ess_tail']);
      expect(row.variable).toBe('theta');
      expectClose(row.rhat, c.values.rhat, 'rhat');
      expectClose(row.ess_bulk, c.values.ess_bulk, 'ess_bulk');
      expectClose(row.ess_tail, c.values.ess_tail, 'ess_tail');
      expectClose(row.mean, c.extra!.mean, 'mean');
      expectClose(row.sd, c.extra!.sd, 'sd');
      expectClose(row.q5, c.extra!.q5, 'q5');
      expectClose(row.q95, c.extra!.q95, 'q95');
    });
  }
});

describe('PSIS matches loo 2.5.1', () => {
  it('has PSIS cases to check', () => {
    expect(psisCases.length).toBeGreaterThanOrEqual(2);
  });

  for (const [name, c] of psisCases) {
    it(`${name}: k-hat, n_eff, tail length, normalising constant, weights`, () => {
      const lr = readCsvColumns(path.join(refDir, c.input)).cols[0];
      const res = psis(lr, 1);
      const w = res.weights;
      let sum = 0;
      let max = 0;
      let sumSq = 0;
      for (const v of w) {
        sum += v;
        sumSq += v * v;
        if (v > max) max = v;
      }
      const got: Record<string, number> = {
        pareto_k: res.paretoK,
        pareto_k_values: res.paretoK,
        n_eff: res.nEff,
        psis_n_eff_values: res.nEff,
        tail_len: res.tailLen,
        norm_const_log: res.normConstLog,
        sum_weights: sum,
        max_weight: max,
        inv_sum_sq_weights: 1 / sumSq,
      };
      for (const [key, want] of Object.entries(c.values)) {
        expect(got[key], `no implementation mapped for reference field ${key}`).toBeDefined();
        expectClose(got[key], want, `${name}.${key}`);
      }
      if (c.pareto_k_category !== undefined) {
        expect(paretoKCategoryLoo(res.paretoK).interval).toBe(c.pareto_k_category);
      }
      const ref = readCsvColumns(path.join(refDir, c.weights_file!));
      const [wRef, lwRef] = ref.cols;
      expect(w.length).toBe(wRef.length);
      for (let i = 0; i < wRef.length; i++) {
        expectClose(w[i], wRef[i], `${name} weight[${i + 1}]`);
        expectClose(res.logWeights[i], lwRef[i], `${name} log_weight[${i + 1}]`);
      }
    });
  }
});
