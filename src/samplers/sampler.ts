/**
 * What every sampler takes. A sampler is `sample(target, options) -> Draws`; kernels keep their
 * state in plain objects so a chain can be resumed or warm-started from given states.
 */
export interface SamplerProgress {
  sampler: string;
  /** Iterations done / total, summed over chains (warm-up included). */
  done: number;
  total: number;
  phase: 'warmup' | 'sampling' | 'training';
}

export interface SamplerOptions {
  /** Seed of the root random stream; chain c uses `stream.derive('chain', c)`. */
  seed: number | string;
  /** Number of independent chains (default 4). */
  chains?: number;
  /** Post-warm-up draws per chain (default 1000). */
  draws?: number;
  /** Warm-up (adaptation) iterations per chain, discarded (default 1000 for MCMC). */
  warmup?: number;
  /** Starting states: one vector for all chains, or one per chain. Default: target.initialPoint or zeros, jittered per chain. */
  init?: Float64Array | Float64Array[];
  /** Called now and then with progress (cheap; at most every few hundred iterations). */
  onProgress?: (p: SamplerProgress) => void;
  /** Stops the run; the sampler throws AbortedError. */
  signal?: AbortSignal;
  /**
   * Gradient samplers (MALA, HMC, NUTS) first check the target's gradient against finite
   * differences at the chains' starting points (src/targets/checkTarget.ts) and throw a
   * TargetCheckError naming the parameter that disagrees. Default true; false skips it.
   */
  checkTarget?: boolean;
}
