// A written-once model in TypeScript: the kidiq regression with an interaction term
// (posteriordb kidiq-kidscore_interaction), sampled by NUTS, summarised on the constrained scale.
// Run from the repository after `npm install`: npx tsx examples/regression.ts
// (tsx runs TypeScript as ESM, so top-level await works as in a .mjs file.)
import { readFile } from 'node:fs/promises';
import { defineModel, param, ops, lupdf, nuts, summarise, constrainDraws, type ModelValue } from 'flowsampler';

// A type (not an interface), so that it is a ModelData (a record of named values).
type KidIq = {
  N: number;
  kid_score: number[];
  mom_iq: number[];
  mom_hs: number[];
};

const { add, mul, at } = ops;

const model = defineModel<KidIq>({
  name: 'kidiq_interaction',
  data: { N: 'int', kid_score: 'real[]', mom_iq: 'real[]', mom_hs: 'real[]' },
  parameters: { beta: param.vector(4), sigma: param.real({ lower: 0 }) },
  logDensity({ beta, sigma }, d, t) {
    const inter = mul(d.mom_hs, d.mom_iq); // data only: plain numbers, computed once
    const mu: ModelValue = add(add(at(beta, 0), mul(at(beta, 1), d.mom_hs)), add(mul(at(beta, 2), d.mom_iq), mul(at(beta, 3), inter)));
    t.add(lupdf.cauchy(sigma, 0, 2.5), lupdf.normal(d.kid_score, mu, sigma));
  },
});

const data = JSON.parse(await readFile(new URL('./posteriors/kidiq_interaction/data.json', import.meta.url), 'utf8')) as KidIq;
const target = model.compile(data);
const draws = constrainDraws(await nuts(target, { seed: 1, chains: 4, draws: 1000 }), target);
for (const r of summarise(draws)) {
  console.log(`${r.variable}: mean ${r.mean.toFixed(3)}, sd ${r.sd.toFixed(3)}, R-hat ${r.rhat.toFixed(3)}, ESS bulk ${r.ess_bulk.toFixed(0)}`);
}
