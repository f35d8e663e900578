// posteriordb kidiq-kidscore_interaction: linear regression with an interaction term.
import { defineModel, param, ops, lupdf } from 'flowsampler';
const { add, mul, at } = ops;

export default defineModel({
  name: 'kidiq_interaction',
  data: { N: 'int', kid_score: 'real[]', mom_iq: 'real[]', mom_hs: 'real[]' },
  parameters: { beta: param.vector(4), sigma: param.real({ lower: 0 }) },
  logDensity({ beta, sigma }, d, t) {
    // Data-only expressions are plain numbers, computed once.
    const inter = mul(d.mom_hs, d.mom_iq);
    const mu = add(add(at(beta, 0), mul(at(beta, 1), d.mom_hs)), add(mul(at(beta, 2), d.mom_iq), mul(at(beta, 3), inter)));
    t.add(lupdf.cauchy(sigma, 0, 2.5), lupdf.normal(d.kid_score, mu, sigma));
  },
});
