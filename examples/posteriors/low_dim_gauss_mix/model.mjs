// posteriordb low_dim_gauss_mix-low_dim_gauss_mix: a two-component normal mixture of N = 1000
// points, ordered means.
import { defineModel, param, ops, lupdf } from 'flowsampler';
const { at, logMix, sum } = ops;

export default defineModel({
  name: 'low_dim_gauss_mix',
  data: { N: 'int', y: 'real[]' },
  parameters: { mu: param.ordered(2), sigma: param.positive(2), theta: param.probability() },
  logDensity({ mu, sigma, theta }, d, t) {
    t.add(lupdf.normal(sigma, 0, 2), lupdf.normal(mu, 0, 2), lupdf.beta(theta, 5, 5));
    // Elementwise over the N points: log(θ N(y|μ1,σ1) + (1 − θ) N(y|μ2,σ2)).
    t.add(sum(logMix(theta, normalEach(d.y, at(mu, 0), at(sigma, 0)), normalEach(d.y, at(mu, 1), at(sigma, 1)))));
  },
});

// log N(y_n | mu, sigma) per point (lpdf sums; the mixture needs each term).
function normalEach(y, mu, sigma) {
  const { sub, div, square, mul, log, add } = ops;
  const z = div(sub(y, mu), sigma);
  return add(mul(-0.5, square(z)), add(mul(-1, log(sigma)), -0.9189385332046728));
}
