// posteriordb arma-arma11: ARMA(1,1), a recursion on the errors over T = 200.
import { defineModel, param, ops, lupdf } from 'flowsampler';
const { add, sub, mul, stack } = ops;

export default defineModel({
  name: 'arma11',
  data: { T: 'int', y: 'real[]' },
  parameters: { mu: param.real(), phi: param.real(), theta: param.real(), sigma: param.real({ lower: 0 }) },
  logDensity({ mu, phi, theta, sigma }, d, t) {
    const err = [sub(d.y[0], add(mu, mul(phi, mu)))];
    for (let i = 1; i < d.T; i++) err.push(sub(d.y[i], add(add(mu, mul(phi, d.y[i - 1])), mul(theta, err[i - 1]))));
    t.add(lupdf.normal(mu, 0, 10), lupdf.normal(phi, 0, 2), lupdf.normal(theta, 0, 2), lupdf.cauchy(sigma, 0, 2.5), lupdf.normal(stack(err), 0, sigma));
  },
});
