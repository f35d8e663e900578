/**
 * The worker pool gives the same numbers as one thread: chains spread over 2 workers and put
 * together equal a one-thread run draw for draw, with the same counts and adaptation info.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { WorkerPool } from '../src/study/pool.js';
import { startTargetRuns } from '../src/study/parallelRun.js';
import { parseSamplerList, samplerRegistry } from '../src/cli/samplerRegistry.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import { AbortedError, FlowsamplerError } from '../src/core/errors.js';

let pool: WorkerPool;
beforeAll(async () => {
  pool = new WorkerPool(2);
  await pool.warmUp();
});
afterAll(async () => pool?.close());

const noProgress = () => ({ update() {}, stop() {} });

describe('worker pool', () => {
  it('rwm, mala, hmc, nuts and rejection on 2 workers equal one thread at the same seed', async () => {
    const spec = 'banana';
    const target = parseTargetSpec(spec);
    const budget = { seed: 7, chains: 3, draws: 150, warmup: 150 };
    const samplers = parseSamplerList('rwm,mala,hmc,nuts,rejection');
    const runs = startTargetRuns(pool, { target, source: { kind: 'spec', spec }, baseDir: '.', samplers, budget, train: {}, signal: new AbortController().signal, progress: noProgress });
    for (const s of samplers) {
      const one = await s.run({ target, ...budget, signal: new AbortController().signal, onProgress: () => {}, trainedFlow: () => Promise.reject(new Error('none')) });
      const par = await runs.draws(s.name);
      expect(Buffer.from(par.values.buffer).equals(Buffer.from(one.values.buffer)), s.name).toBe(true);
      expect({ ...par, wallTimeMs: 0, values: null }).toEqual({ ...one, wallTimeMs: 0, values: null, target: par.target });
    }
  });

  it('a user error in a worker comes back as a one-line FlowsamplerError; abort stops a task', async () => {
    await expect(pool.run({ kind: 'sampler', source: { kind: 'spec', spec: 'nosuch' }, baseDir: '.', budget: { seed: 1, chains: 1, draws: 10 }, sampler: 'nuts' })).rejects.toThrow(FlowsamplerError);
    const ac = new AbortController();
    const p = pool.run({ kind: 'noop', sleepMs: 10_000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toThrow(AbortedError);
  });

  it('every chain-parallel sampler is in the registry with its options', () => {
    expect(samplerRegistry.filter((s) => s.chainSpec).map((s) => s.name)).toEqual(['rwm', 'mala', 'hmc', 'nuts']);
  });
});
