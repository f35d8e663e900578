/**
 * A batch of value-and-gradient evaluations done one row at a time through a one-point
 * function, into the caller's arrays (row-major n x dim). For targets without a batched path,
 * and for compiled models whose one-point code is faster than their batched code.
 */
export function valueAndGradRowByRow(
  f: (x: Float64Array, grad: Float64Array) => number,
  x: ArrayLike<number>,
  n: number,
  dim: number,
  logp: Float64Array,
  grad: Float64Array,
): void {
  const xr = new Float64Array(dim);
  const gr = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < dim; j++) xr[j] = x[r * dim + j];
    logp[r] = f(xr, gr);
    grad.set(gr, r * dim);
  }
}
