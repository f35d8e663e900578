// posteriordb gp_pois_regr-gp_pois_regr: a latent Gaussian process with Poisson counts
// (non-centred: f = L f_tilde with L the Cholesky factor of the squared-exponential kernel).
import { defineModel, param, ops, lupdf } from 'flowsampler';
const { addDiag, cholesky, gpExpQuadCov, matMul } = ops;

export default defineModel({
  name: 'gp_pois_regr',
  data: { N: 'int', x: 'real[]', k: 'int[]' },
  parameters: (d) => ({ rho: param.real({ lower: 0 }), alpha: param.real({ lower: 0 }), f_tilde: param.vector(d.N) }),
  logDensity({ rho, alpha, f_tilde }, d, t) {
    const L = cholesky(addDiag(gpExpQuadCov(d.x, alpha, rho), 1e-10));
    const f = matMul(L, f_tilde);
    t.expose({ f });
    t.add(lupdf.gamma(rho, 25, 4), lupdf.normal(alpha, 0, 2), lupdf.normal(f_tilde, 0, 1), lupdf.poissonLog(d.k, f));
  },
});
