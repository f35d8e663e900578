/**
 * CmdStan's JSON input files, for warm-starting CmdStan from a flowsampler flow (CmdStan User's
 * Guide, "JSON format for CmdStan"): one JSON object per file whose keys are Stan variable names;
 * a scalar is a number, a vector an array of numbers, a matrix an array of rows (row-major).
 * - inits: `init=inits.json`; with `num_chains=N`, CmdStan reads `inits_1.json` ... `inits_N.json`
 *   (the chain id appended before the extension) when they exist.
 * - metric: `metric=dense_e metric_file=metric.json` with `{ "inv_metric": [[...], ...] }`
 *   (a d x d matrix; `diag_e` takes a vector).
 * Values must be finite: JSON has no NaN or Infinity (CmdStan accepts them only as strings).
 */
import { DimensionError, NonFiniteError, ParameterError } from '../core/errors.js';

const STAN_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function finite(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new NonFiniteError(`${what} is ${v}; CmdStan JSON needs finite numbers`);
  return v;
}

function checkName(name: string): void {
  if (!STAN_NAME.test(name) || name.endsWith('__')) {
    throw new ParameterError(`'${name}' is not a Stan variable name (a letter, then letters, digits or _; not ending in __)`);
  }
}

/**
 * An inits object for one chain. `layout` 'vector' puts the point in one vector variable
 * `name` (the order of the target's parameters, e.g. `vector[D] x`); 'scalars' gives one scalar
 * per parameter name.
 */
export function cmdstanInits(x: Float64Array, paramNames: string[], layout: { kind: 'vector'; name: string } | { kind: 'scalars' }): Record<string, number | number[]> {
  if (paramNames.length !== x.length) throw new DimensionError(`${paramNames.length} parameter names for a point of length ${x.length}`);
  if (layout.kind === 'vector') {
    checkName(layout.name);
    return { [layout.name]: Array.from(x, (v, i) => finite(v, `init ${paramNames[i]}`)) };
  }
  const out: Record<string, number> = {};
  paramNames.forEach((n, i) => {
    checkName(n);
    if (n in out) throw new ParameterError(`parameter name ${n} appears twice`);
    out[n] = finite(x[i], `init ${n}`);
  });
  return out;
}

/** `{ "inv_metric": ... }`: a d x d matrix (dense_e) from a row-major array, or a vector (diag_e). */
export function cmdstanMetric(inv: Float64Array, dim: number): { inv_metric: number[] | number[][] } {
  if (inv.length === dim) return { inv_metric: Array.from(inv, (v, i) => finite(v, `inv_metric[${i + 1}]`)) };
  if (inv.length !== dim * dim) throw new DimensionError(`inverse metric: expected ${dim} or ${dim * dim} entries, got ${inv.length}`);
  return {
    inv_metric: Array.from({ length: dim }, (_, i) => Array.from(inv.subarray(i * dim, (i + 1) * dim), (v, j) => finite(v, `inv_metric[${i + 1},${j + 1}]`))),
  };
}

/** CmdStan's per-chain file name: `inits.json` → `inits_3.json` for chain id 3. */
export function cmdstanChainFile(base: string, chainId: number): string {
  const dot = base.lastIndexOf('.');
  return dot > 0 ? `${base.slice(0, dot)}_${chainId}${base.slice(dot)}` : `${base}_${chainId}`;
}
