/**
 * Writes examples/posteriors/NAME/reference.json (and data.json) from a local checkout of
 * stan-dev/posteriordb: the reference draws' mean, sd, 5/50/95 % quantiles, each with its MCSE,
 * bulk ESS and R-hat, computed with flowsampler's own diagnostics (which match R's posterior).
 *
 *   npx tsx scripts/posteriordb-references.ts PATH/TO/posteriordb [NAME ...]
 *
 * (POSTERIORDB_COMMIT names the commit when the checkout is not a git work tree.)
 * Needs `unzip` on the PATH (posteriordb stores its JSON zipped). Tests read only the files
 * this writes, never the checkout.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { mcseMean, mcseQuantile, mcseSd, summariseChains } from '../src/diagnostics/index.js';
import { quantileSorted } from '../src/diagnostics/stats.js';

/** Our directory name → posteriordb posterior name and data name. */
export const POSTERIORS: Record<string, { posterior: string; data: string }> = {
  eight_schools_noncentered: { posterior: 'eight_schools-eight_schools_noncentered', data: 'eight_schools' },
  kidiq_interaction: { posterior: 'kidiq-kidscore_interaction', data: 'kidiq' },
  garch11: { posterior: 'garch-garch11', data: 'garch' },
  arK: { posterior: 'arK-arK', data: 'arK' },
  arma11: { posterior: 'arma-arma11', data: 'arma' },
  low_dim_gauss_mix: { posterior: 'low_dim_gauss_mix-low_dim_gauss_mix', data: 'low_dim_gauss_mix' },
  gp_pois_regr: { posterior: 'gp_pois_regr-gp_pois_regr', data: 'gp_pois_regr' },
  hmm_example: { posterior: 'hmm_example-hmm_example', data: 'hmm_example' },
  sblrc_blr: { posterior: 'sblrc-blr', data: 'sblrc' },
};

function unzipJson(zip: string): unknown {
  return JSON.parse(execFileSync('unzip', ['-p', zip], { maxBuffer: 1 << 28 }).toString('utf8'));
}

function main(): void {
  const [root, ...names] = process.argv.slice(2);
  if (!root || !existsSync(join(root, 'posterior_database'))) {
    console.error('usage: npx tsx scripts/posteriordb-references.ts PATH/TO/posteriordb [NAME ...]');
    process.exit(2);
  }
  const db = join(root, 'posterior_database');
  const commit = (() => {
    try {
      return process.env.POSTERIORDB_COMMIT ?? execFileSync('git', ['-C', root, 'rev-parse', 'HEAD']).toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  for (const name of names.length ? names : Object.keys(POSTERIORS)) {
    const p = POSTERIORS[name];
    const out = join('examples', 'posteriors', name);
    mkdirSync(out, { recursive: true });
    const data = unzipJson(join(db, 'data', 'data', `${p.data}.json.zip`));
    writeFileSync(join(out, 'data.json'), JSON.stringify(data) + '\n');
    const chains = unzipJson(join(db, 'reference_posteriors', 'draws', 'draws', `${p.posterior}.json.zip`)) as Record<string, number[]>[];
    const variables: Record<string, unknown> = {};
    for (const v of Object.keys(chains[0])) {
      const cs = chains.map((c) => Float64Array.from(c[v]));
      const s = summariseChains(v, cs);
      const sorted = Float64Array.from(cs.flatMap((c) => Array.from(c))).sort();
      variables[v] = {
        mean: s.mean, mcse_mean: mcseMean(cs), sd: s.sd, mcse_sd: mcseSd(cs),
        q5: s.q5, mcse_q5: mcseQuantile(cs, 0.05), q50: quantileSorted(sorted, 0.5), mcse_q50: mcseQuantile(cs, 0.5),
        q95: s.q95, mcse_q95: mcseQuantile(cs, 0.95), ess_bulk: s.ess_bulk, rhat: s.rhat,
      };
    }
    const doc = {
      source: `posteriordb ${p.posterior} (stan-dev/posteriordb commit ${commit}), reference draws: ${chains.length} chains x ${chains[0][Object.keys(chains[0])[0]].length}`,
      made_by: 'scripts/posteriordb-references.ts',
      variables,
    };
    writeFileSync(join(out, 'reference.json'), JSON.stringify(doc, null, 1) + '\n');
    console.log(`${name}: ${Object.keys(variables).length} variables`);
  }
}

main();
