import { parseCommandArgs, UsageError, type Command } from '../command.js';
import { ensureOutputDir } from '../outputDir.js';
import { parseSamplerList } from '../samplerRegistry.js';
import { runCompare } from '../compareRun.js';
import { parseTargetSpec } from '../../targets/registry.js';
import { initBackend } from '../../core/backend.js';
import { compareExitCode, strictHelp, strictOption } from '../exitCodes.js';
import { workersOption, workersHelp, withWorkers } from '../workersOption.js';

/**
 * The demo's budget, chosen to finish in about a minute on a 2-vCPU machine: two 2-D targets
 * (the banana and the ring of 8 Gaussians), eight samplers (tempered SMC included: 4 runs x 500
 * particles), 4 chains x 500 draws, 3000 training steps, and the flow's coverage check.
 */
export const DEMO = {
  /**
   * No annealing: we tried β from 0.02–0.1 on the ring and whether the affine IAF then covers
   * ~3 modes or 1 depended on the seed, so the demo shows the plain reverse-KL fit as it is.
   */
  targets: [{ spec: 'banana' }, { spec: 'ring' }],
  samplers: 'iaf,imh,rwm,mala,hmc,nuts,smc,rejection',
  chains: 4,
  draws: 500,
  warmup: 500,
  trainSteps: 3000,
} as const;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the main job: compare samplers on the banana and a multimodal target, write a report',
  help: `usage: flowsampler demo [--seed S] [--out DIR]

A compact 'compare' on the banana (2-D) and the ring of 8 Gaussians (2-D, multimodal) with the
flow (iaf importance sampling, imh independence Metropolis–Hastings) and the classical samplers
(${DEMO.samplers}); ${DEMO.chains} chains x ${DEMO.draws} draws, ${DEMO.trainSteps} flow training steps.
Takes about a minute on a 2-core machine. Prints the tables and writes results.json, the draws
(CmdStan CSV), report.html and figures/*.png into DIR.

  --seed S           seed (default 1)
  --out DIR          output directory (default ./flowsampler-demo)
  --no-png           skip the PNG export
${strictHelp}
${workersHelp}
  -h, --help         this help`,
  async run(argv, io) {
    const { values } = parseCommandArgs('demo', argv, { seed: { type: 'string' }, out: { type: 'string' }, 'no-png': { type: 'boolean' }, workers: { type: 'string' }, ...strictOption });
    const workers = workersOption(values.workers as string | undefined);
    const seedRaw = (values.seed as string | undefined) ?? '1';
    if (seedRaw.trim() === '') throw new UsageError('--seed is empty');
    const seed = /^-?\d+$/.test(seedRaw) ? Number(seedRaw) : seedRaw;
    const outDir = await ensureOutputDir((values.out as string | undefined) ?? 'flowsampler-demo');
    await initBackend();
    const t0 = performance.now();
    const outcome = await withWorkers(workers, (pool) => runCompare(
      {
        pool,
        targets: DEMO.targets.map((t) => ({ target: parseTargetSpec(t.spec), source: { kind: 'spec' as const, spec: t.spec } })),
        samplers: parseSamplerList(DEMO.samplers),
        draws: DEMO.draws,
        chains: DEMO.chains,
        warmup: DEMO.warmup,
        seed,
        outDir,
        train: { steps: DEMO.trainSteps },
        png: !values['no-png'],
        command: ['demo', ...argv],
        title: 'flowsampler demo: normalizing flows vs MCMC on the banana and the ring of 8 Gaussians',
      },
      io,
    ));
    io.out(`demo finished in ${((performance.now() - t0) / 1000).toFixed(1)} s; open ${outcome.reportPath}`);
    return compareExitCode(outcome, Boolean(values.strict), io, 'demo');
  },
};
