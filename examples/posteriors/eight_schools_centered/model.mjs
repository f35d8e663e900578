// posteriordb eight_schools-eight_schools_centered: the centred parameterisation, a funnel that
// NUTS cannot explore without divergences (posteriordb ships no reference draws for it).
import { defineModel, param, lupdf } from 'flowsampler';

export default defineModel({
  name: 'eight_schools_centered',
  data: { J: 'int', y: 'real[]', sigma: 'real[]' },
  parameters: (d) => ({ theta: param.vector(d.J), mu: param.real(), tau: param.real({ lower: 0 }) }),
  logDensity({ theta, mu, tau }, d, t) {
    t.add(lupdf.cauchy(tau, 0, 5), lupdf.normal(theta, mu, tau), lupdf.normal(d.y, theta, d.sigma), lupdf.normal(mu, 0, 5));
  },
});
