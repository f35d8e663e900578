import { parseCommandArgs, intOption, numberOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir } from '../outputDir.js';
import { parseSamplerList, samplerRegistry } from '../samplerRegistry.js';
import { resolveTargetArgs, targetOptions, targetOptionHelp, protectExprValue } from '../targetArgs.js';
import { runCompare } from '../compareRun.js';
import { TRAIN_DEFAULTS } from '../../flows/index.js';
import { flowFamilyHelp, flowFamilyOption, luOption, luOptions } from '../flowFamily.js';
import { initBackend } from '../../core/backend.js';
import { compareExitCode, strictHelp, strictOption } from '../exitCodes.js';
import { checkDrawsMemory } from '../../samplers/chains.js';
import { checkTrainingBatchMemory } from '../../flows/train/checks.js';
import { cliBatchSize } from '../flowTraining.js';
import { defaultHidden, DEFAULT_FLOW_LAYERS } from '../../flows/index.js';
import { workersOption, workersHelp, withWorkers } from '../workersOption.js';
import { methodHelp, methodOption } from '../trainMethod.js';

const DEFAULT_SAMPLERS = 'iaf,imh,rwm,mala,hmc,nuts,rejection';

export const compareHelp = `usage: flowsampler compare (--target SPEC | --expr "EXPR" | --model FILE [--data FILE]) [options]

Runs each sampler on the target (the flow is trained first; its training time and density
evaluations are charged to the flow samplers), prints one row per sampler and writes
DIR/results.json, DIR/draws/*.csv (CmdStan layout), DIR/report.html and DIR/figures/*.png.

${targetOptionHelp}
  --samplers LIST    comma-separated, from: ${samplerRegistry.map((s) => s.name).join(', ')}
                     (default ${DEFAULT_SAMPLERS})
  --draws N          post-warm-up draws per chain (default 1000)
  --chains C         chains (default 4)
  --warmup W         warm-up iterations per chain (default: each sampler's own, 1000 for MCMC)
  --seed S           seed of every random choice (default 1)
  --train-steps K    flow training steps (default ${TRAIN_DEFAULTS.steps}, or an earlier plateau stop)
  --batch B          flow training batch size (default 256)
${flowFamilyHelp}
  --anneal B0        anneal the flow's target temperature from B0 in (0, 1] to 1 over the first
                     half of training (helps on multimodal targets, hurts on unimodal ones)
${methodHelp}
${workersHelp}
  --out DIR          output directory (default ./flowsampler-out)
  --no-png           skip the PNG export of the figures
${strictHelp}
  --no-coverage      skip the flow's coverage check (run when iaf or imh is in the list)
  -h, --help         this help

Columns: ESS bulk and tail (minimum over parameters), R-hat (maximum), ESS per second and per
1000 density evaluations (training included for flows), KL to exact draws when the target has
an exact sampler, PSIS k-hat for importance samplers, log Z (importance samplers and smc, with
its standard error), modes visited (targets with known modes), the flow's coverage check (ok,
missed: the flow's log Z is below an independent SMC estimate; thin: its marginal sds are below
a NUTS run's; unclear), divergent transitions (div), wall time, and the codes of the row's
warnings, each explained under the table (divergences, rhat, low-ess, khat, non-finite,
skipped-steps, ...). Ctrl-C stops the running sampler and writes what finished (exit 130); a
compare in which every sampler failed exits 2.`;

export const compareCommand: Command = {
  name: 'compare',
  summary: 'compare samplers on a target: table, results.json, CmdStan CSVs, report.html',
  help: compareHelp,
  async run(argv, io) {
    const { values } = parseCommandArgs('compare', protectExprValue(argv), {
      ...targetOptions,
      samplers: { type: 'string' },
      draws: { type: 'string' },
      chains: { type: 'string' },
      warmup: { type: 'string' },
      seed: { type: 'string' },
      anneal: { type: 'string' },
      method: { type: 'string' },
      flow: { type: 'string' },
      ...luOptions,
      actnorm: { type: 'boolean' },
      'train-steps': { type: 'string' },
      batch: { type: 'string' },
      out: { type: 'string' },
      'no-png': { type: 'boolean' },
      ...strictOption,
      'no-coverage': { type: 'boolean' },
      workers: { type: 'string' },
    });
    const samplers = parseSamplerList((values.samplers as string | undefined) ?? DEFAULT_SAMPLERS);
    const draws = intOption('draws', values.draws as string | undefined, 1000, 4);
    const chains = intOption('chains', values.chains as string | undefined, 4, 1);
    const warmupRaw = values.warmup as string | undefined;
    const warmup = warmupRaw === undefined ? undefined : intOption('warmup', warmupRaw, 0, 0);
    const seed = (values.seed as string | undefined) ?? '1';
    if (seed.trim() === '') throw new UsageError('--seed is empty');
    const trainSteps = intOption('train-steps', values['train-steps'] as string | undefined, TRAIN_DEFAULTS.steps, 1);
    const batchRaw = values.batch as string | undefined;
    const batch = batchRaw === undefined ? undefined : intOption('batch', batchRaw, 0, 2);
    const annealRaw = values.anneal as string | undefined;
    const annealFrom = annealRaw === undefined ? undefined : numberOption('anneal', annealRaw, 0, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    const workers = workersOption(values.workers as string | undefined);
    const method = methodOption(values.method as string | undefined, values['no-coverage'] === true);
    const target = await resolveTargetArgs(values, 'compare');
    // Sizes that cannot fit fail here, in one line, not after the flow has trained.
    checkDrawsMemory('compare', chains, draws, target.target.dim);
    if (samplers.some((s) => s.kind === 'importance' || s.kind === 'flow-mcmc')) {
      checkTrainingBatchMemory(target.target.dim, batch ?? cliBatchSize(target.target.dim, true), defaultHidden(target.target.dim), DEFAULT_FLOW_LAYERS, 'a smaller --batch, or leave iaf and imh out of --samplers');
    }
    const outDir = await ensureOutputDir((values.out as string | undefined) ?? 'flowsampler-out');
    await initBackend();
    const outcome = await withWorkers(workers, (pool) => runCompare(
      {
        pool,
        targets: [target],
        samplers,
        draws,
        chains,
        warmup,
        seed: /^-?\d+$/.test(seed) ? Number(seed) : seed,
        outDir,
        train: {
          method,
          steps: trainSteps,
          batchSize: batch,
          family: flowFamilyOption(values.flow as string | undefined),
          lu: luOption(values),
          actnorm: values.actnorm === true,
          ...(annealFrom !== undefined ? { annealFrom } : {}),
        },
        png: !values['no-png'],
        coverage: !values['no-coverage'],
        command: ['compare', ...argv],
      },
      io,
    ));
    return compareExitCode(outcome, Boolean(values.strict), io, 'compare');
  },
};
