// posteriordb eight_schools-eight_schools_noncentered: the non-centred hierarchical model.
import { defineModel, param, ops, lupdf } from 'flowsampler';
const { add, mul } = ops;

export default defineModel({
  name: 'eight_schools_noncentered',
  data: { J: 'int', y: 'real[]', sigma: 'real[]' },
  parameters: (d) => ({ theta_trans: param.vector(d.J), mu: param.real(), tau: param.real({ lower: 0 }) }),
  logDensity({ theta_trans, mu, tau }, d, t) {
    const theta = add(mu, mul(theta_trans, tau));
    t.expose({ theta });
    t.add(
      lupdf.normal(theta_trans, 0, 1),
      lupdf.normal(d.y, theta, d.sigma),
      lupdf.normal(mu, 0, 5),
      lupdf.cauchy(tau, 0, 5),
    );
  },
});
