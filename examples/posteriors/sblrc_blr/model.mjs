// posteriordb sblrc-blr: Bayesian linear regression, D = 5 predictors, N = 100.
import { defineModel, param, ops, lpdf } from 'flowsampler';

export default defineModel({
  name: 'sblrc_blr',
  data: { N: 'int', D: 'int', X: 'matrix', y: 'real[]' },
  parameters: (d) => ({ beta: param.vector(d.D), sigma: param.real({ lower: 0 }) }),
  logDensity({ beta, sigma }, d) {
    return [lpdf.normal(beta, 0, 10), lpdf.normal(sigma, 0, 10), lpdf.normal(d.y, ops.matMul(d.X, beta), sigma)];
  },
});
