// posteriordb hmm_example-hmm_example: a two-state hidden Markov model, marginalised by the
// forward algorithm (log-sum-exp recursion over N = 100 steps); simplex rows, ordered means.
import { defineModel, param, ops, lpdf } from 'flowsampler';
const { add, at, log, logSumExp, sub, square, mul } = ops;

export default defineModel({
  name: 'hmm_example',
  data: { N: 'int', K: 'int', y: 'real[]' },
  parameters: (d) => ({ theta1: param.simplex(d.K), theta2: param.simplex(d.K), mu: param.positiveOrdered(d.K) }),
  logDensity({ theta1, theta2, mu }, d, t) {
    const K = d.K;
    const logTheta = [log(theta1), log(theta2)];
    t.add(lpdf.normal(at(mu, 0), 3, 1), lpdf.normal(at(mu, 1), 10, 1));
    const emit = (n, k) => add(mul(-0.5, square(sub(d.y[n], at(mu, k)))), -0.9189385332046728);
    let gamma = Array.from({ length: K }, (_, k) => emit(0, k));
    for (let n = 1; n < d.N; n++) {
      gamma = Array.from({ length: K }, (_, k) => logSumExp(Array.from({ length: K }, (_, j) => add(add(gamma[j], at(logTheta[j], k)), emit(n, k)))));
    }
    t.add(logSumExp(gamma));
  },
});
