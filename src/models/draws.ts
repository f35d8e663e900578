/**
 * Draws on the constrained scale, and weighted summaries of importance draws.
 *
 * `constrainDraws` maps every unconstrained draw of a model target through its constrained view
 * (parameters, exposed transformed parameters, generated quantities, with Stan's names), keeping
 * the cost accounting and the log weights, so every summary and file is in the model's terms.
 *
 * `weightedSummary` summarises self-normalised importance draws: weighted mean, sd and
 * quantiles, and the MCSE of the mean from the delta-method variance of the ratio estimator,
 * Σ w̃ᵢ² (xᵢ − x̄)² (Owen 2013, Monte Carlo theory, §9.2), with Kish's ESS of the weights.
 */
import { makeDraws, type Draws } from '../core/draws.js';
import { DimensionError } from '../core/errors.js';
import type { Target } from '../targets/target.js';
import type { Warning } from '../core/warnings.js';
import { drawsWarnings } from '../diagnostics/drawsWarnings.js';

/** The draws on the target's constrained scale (unchanged when the target has none). */
export function constrainDraws(d: Draws, target: Target, opts: { seed?: number | string } = {}): Draws {
  const view = target.constrained;
  if (!view) return d;
  if (d.dim !== target.dim) throw new DimensionError(`constrainDraws: draws have dim ${d.dim}, target ${target.name} has ${target.dim}`);
  const values = view.map(d.values, d.chains * d.draws, opts);
  const c = makeDraws({ ...d, dim: view.names.length, paramNames: view.names.slice(), values });
  // R-hat and ESS warnings name a variable: recomputed on the constrained draws so they name the
  // model's (`alpha0`, not `alpha0_unc`). Not just renamed: a simplex or a Cholesky factor has
  // other variables than its unconstrained vector, so the diagnostics differ too.
  const named = (w: Warning) => w.code === 'rhat' || w.code === 'low-ess';
  if (d.warnings.some(named)) c.warnings = [...d.warnings.filter((w) => !named(w)), ...drawsWarnings(c).filter(named)];
  return c;
}

export interface WeightedSummaryRow {
  variable: string;
  mean: number;
  sd: number;
  q5: number;
  q50: number;
  q95: number;
  mcse_mean: number;
  /** Kish's effective sample size of the weights, (Σw)²/Σw². */
  ess: number;
}

function weightedQuantile(x: Float64Array, w: Float64Array, order: Uint32Array, p: number): number {
  let c = 0;
  for (let k = 0; k < order.length; k++) {
    c += w[order[k]];
    if (c >= p) return x[order[k]];
  }
  return x[order[order.length - 1]];
}

/** Per-parameter weighted summary of n draws (row-major n × dim) with log importance weights. */
export function weightedSummary(values: Float64Array, logWeights: Float64Array, names: string[]): WeightedSummaryRow[] {
  const n = logWeights.length;
  const dim = names.length;
  if (values.length !== n * dim) throw new DimensionError(`weightedSummary: ${values.length} values are not ${n} draws of ${dim} parameters`);
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (logWeights[i] > m) m = logWeights[i];
  const w = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) s += w[i] = Number.isFinite(logWeights[i]) ? Math.exp(logWeights[i] - m) : 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    w[i] /= s;
    s2 += w[i] * w[i];
  }
  const ess = 1 / s2;
  const rows: WeightedSummaryRow[] = [];
  const x = new Float64Array(n);
  for (let j = 0; j < dim; j++) {
    for (let i = 0; i < n; i++) x[i] = values[i * dim + j];
    let mean = 0;
    for (let i = 0; i < n; i++) mean += w[i] * x[i];
    let v = 0, vm = 0;
    for (let i = 0; i < n; i++) {
      const dx = x[i] - mean;
      v += w[i] * dx * dx;
      vm += w[i] * w[i] * dx * dx;
    }
    const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
    rows.push({
      variable: names[j], mean, sd: Math.sqrt(v),
      q5: weightedQuantile(x, w, order, 0.05), q50: weightedQuantile(x, w, order, 0.5), q95: weightedQuantile(x, w, order, 0.95),
      mcse_mean: Math.sqrt(vm), ess,
    });
  }
  return rows;
}

/** Stan CSV column names: `beta[1]` → `beta.1`, `L[1,2]` → `L.1.2`. */
export function cmdStanName(name: string): string {
  return name.replace(/\[([^\]]*)\]/g, (_, idx: string) => '.' + idx.split(',').map((s) => s.trim()).join('.'));
}
