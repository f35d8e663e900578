/**
 * The exact baseline: independent draws from a target's own exact sampler (`sampleExact`), as
 * Draws, so they can sit beside the MCMC samplers in every table (ESS = number of draws, up to
 * noise). Targets without an exact sampler give a ParameterError saying so.
 *
 * Example:
 *   const truth = await exact(banana(), { seed: 1, chains: 4, draws: 1000 });
 */
import { Cooperative } from '../core/cooperative.js';
import { makeDraws, type Draws } from '../core/draws.js';
import { DimensionError, ParameterError } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { checkDrawsMemory, checkTargetContract, commonConfig } from './chains.js';
import type { SamplerOptions } from './sampler.js';

export async function exact(target: Target, options: Omit<SamplerOptions, 'init' | 'warmup'>): Promise<Draws> {
  checkTargetContract(target, false);
  if (typeof target.sampleExact !== 'function') {
    throw new ParameterError(`target ${target.name} has no exact sampler; use an MCMC sampler instead`);
  }
  const cfg = commonConfig({ ...options, warmup: 0 } as SamplerOptions, 0);
  const dim = target.dim;
  const root = new RandomStream(cfg.seed);
  checkDrawsMemory('exact', cfg.chains, cfg.draws, dim);
  const values = new Float64Array(cfg.chains * cfg.draws * dim);
  const coop = new Cooperative(options.signal);
  coop.checkAborted();
  const t0 = performance.now();
  for (let c = 0; c < cfg.chains; c++) {
    const x = target.sampleExact(cfg.draws, root.derive('chain', c));
    if (x.length !== cfg.draws * dim) {
      throw new DimensionError(`target ${target.name}: sampleExact(${cfg.draws}) returned ${x.length} values, expected ${cfg.draws * dim}`);
    }
    values.set(x, c * cfg.draws * dim);
    options.onProgress?.({ sampler: 'exact', done: (c + 1) * cfg.draws, total: cfg.chains * cfg.draws, phase: 'sampling' });
    await coop.tick();
  }
  return makeDraws({
    sampler: 'exact',
    target: target.name,
    chains: cfg.chains,
    draws: cfg.draws,
    dim,
    paramNames: target.paramNames,
    values,
    wallTimeMs: performance.now() - t0,
    densityEvals: 0,
    gradEvals: 0,
    acceptance: 1,
  });
}
