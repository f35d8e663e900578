/**
 * The reverse-KL objective at inverse temperature β and Rényi order α, as cotangents for the
 * flow's backward pass. With lw = β log p̃(x) − log q(x) on a batch of n draws x = f(ε):
 *   α = 1:  L = −mean(lw)            (the negative ELBO; UDL §16.5.3; Rezende & Mohamed 2015)
 *   α < 1:  L = (logsumexp((1 − α) lw) − log n) / (α − 1)   (Li & Turner 2016)
 * Then dL/dx = −w β ∇ log p̃(x) and dL/dlog q = w, with w = 1/n for α = 1 and the self-normalised
 * weights softmax((1 − α) lw) for α < 1. The reported ELBO is mean(log p̃ − log q) at β = 1.
 */

export interface ObjectiveGradient {
  loss: number;
  elbo: number;
  dX: Float64Array;
  dLogq: Float64Array;
}

export function objectiveGradient(logp: ArrayLike<number>, gradLogp: ArrayLike<number>, logq: ArrayLike<number>, dim: number, beta: number, alpha: number): ObjectiveGradient {
  const n = logq.length;
  const dX = new Float64Array(n * dim);
  const dLogq = new Float64Array(n);
  let elbo = 0;
  for (let r = 0; r < n; r++) elbo += logp[r] - logq[r];
  elbo /= n;
  const w = new Float64Array(n);
  let loss: number;
  if (alpha === 1) {
    let s = 0;
    for (let r = 0; r < n; r++) s += beta * logp[r] - logq[r];
    loss = -s / n;
    w.fill(1 / n);
  } else {
    const a = 1 - alpha;
    let mx = -Infinity;
    for (let r = 0; r < n; r++) mx = Math.max(mx, a * (beta * logp[r] - logq[r]));
    let z = 0;
    for (let r = 0; r < n; r++) z += w[r] = Math.exp(a * (beta * logp[r] - logq[r]) - mx);
    for (let r = 0; r < n; r++) w[r] /= z;
    loss = (mx + Math.log(z) - Math.log(n)) / (alpha - 1);
  }
  for (let r = 0; r < n; r++) {
    dLogq[r] = w[r];
    const c = -w[r] * beta;
    for (let j = 0; j < dim; j++) dX[r * dim + j] = c * gradLogp[r * dim + j];
  }
  return { loss, elbo, dX, dLogq };
}
