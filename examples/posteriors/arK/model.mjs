// posteriordb arK-arK: an autoregressive AR(K) model of T = 200 observations.
import { defineModel, param, ops, lupdf } from 'flowsampler';
const { add, dot, stack, slice } = ops;

export default defineModel({
  name: 'arK',
  data: { K: 'int', T: 'int', y: 'real[]' },
  parameters: (d) => ({ alpha: param.real(), beta: param.vector(d.K), sigma: param.real({ lower: 0 }) }),
  logDensity({ alpha, beta, sigma }, d, t) {
    const mu = [];
    // mu_t = alpha + Σ_k beta_k y_{t−k}: the lagged data window reversed, dotted with beta.
    for (let i = d.K; i < d.T; i++) mu.push(add(alpha, dot(beta, d.y.slice(i - d.K, i).reverse())));
    t.add(
      lupdf.normal(alpha, 0, 10),
      lupdf.normal(beta, 0, 10),
      lupdf.cauchy(sigma, 0, 2.5),
      lupdf.normal(slice(d.y, d.K, d.T - d.K), stack(mu), sigma),
    );
  },
});
