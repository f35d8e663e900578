// posteriordb garch-garch11: GARCH(1,1) volatility, a recursion over T = 200, with the
// dependent bound beta1 < 1 − alpha1.
import { defineModel, param, ops, lupdf } from 'flowsampler';
const { add, sub, mul, sqrt, square, stack } = ops;

export default defineModel({
  name: 'garch11',
  data: { T: 'int', y: 'real[]', sigma1: 'real' },
  parameters: {
    mu: param.real(),
    alpha0: param.real({ lower: 0 }),
    alpha1: param.real({ lower: 0, upper: 1 }),
    beta1: param.real({ lower: 0, upper: (p) => sub(1, p.alpha1) }),
  },
  logDensity({ mu, alpha0, alpha1, beta1 }, d, t) {
    const sigma = [d.sigma1];
    for (let i = 1; i < d.T; i++) {
      sigma.push(sqrt(add(add(alpha0, mul(alpha1, square(sub(d.y[i - 1], mu)))), mul(beta1, square(sigma[i - 1])))));
    }
    t.add(lupdf.normal(d.y, mu, stack(sigma)));
  },
});
