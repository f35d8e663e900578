import { dirname, resolve } from 'node:path';
import { parseCommandArgs, intOption, numberOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir } from '../outputDir.js';
import { targetFromArgs, targetOptions, targetOptionHelp, protectExprValue } from '../targetArgs.js';
import { trainFlowFor } from '../flowTraining.js';
import { createProgress } from '../progress.js';
import { writeJsonAtomic } from '../../core/atomicWrite.js';
import { flowToJSON, DEFAULT_FLOW_LAYERS } from '../../flows/index.js';
import { TRAIN_DEFAULTS, defaultBatchSize } from '../../flows/train.js';
import { defaultHidden } from '../../flows/defaults.js';
import { checkTrainingBatchMemory } from '../../flows/trainChecks.js';
import { flowImportanceSample } from '../../samplers/flowImportance.js';
import { addWarnings, fmt, formatWarnings } from '../../core/warnings.js';
import { strictHelp, strictOption, warningsExitCode } from '../exitCodes.js';
import { stat } from 'node:fs/promises';

/** Fresh draws for the summary's importance check: enough for k-hat and Kish's ESS to mean something. */
export const TRAIN_CHECK_DRAWS = 10_000;

function stopText(stoppedBy: string, maxSeconds: number | undefined): string {
  switch (stoppedBy) {
    case 'steps':
      return 'all requested steps';
    case 'plateau':
      return 'stopped early: the ELBO reached a plateau';
    case 'time':
      return `stopped on the ${maxSeconds} s time budget`;
    default:
      return `stopped: ${stoppedBy}`;
  }
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train an IAF flow against a target by reverse KL and save it (JSON)',
  help: `usage: flowsampler train (--target SPEC | --expr "EXPR") [options]

Trains the default flow (affine base + IAF layers) by minimising KL(q || p) and saves it as
JSON, with the target spec and a training summary. Load it with 'flowsampler sample'.
The summary gives the steps actually run and why training stopped, and checks the flow by
importance sampling ${TRAIN_CHECK_DRAWS} fresh draws (Kish ESS/N, PSIS k-hat, log Z).

${targetOptionHelp}
  --steps K          optimiser steps (default ${TRAIN_DEFAULTS.steps})
  --batch B          base draws per step (default 1024 up to 16 dimensions, 512 above)
  --layers L         IAF layers (default ${DEFAULT_FLOW_LAYERS})
  --lr RATE          peak Adam learning rate, cosine-decayed (default ${TRAIN_DEFAULTS.learningRate})
  --max-seconds T    wall-time budget (optional)
  --anneal B0        anneal the target temperature from B0 in (0, 1] to 1 over half the steps
  --seed S           seed (default 1)
  --out FILE         where to save the flow (default flow.json)
${strictHelp}
  -h, --help         this help`,
  async run(argv, io) {
    const { values } = parseCommandArgs('train', protectExprValue(argv), {
      ...targetOptions,
      steps: { type: 'string' },
      batch: { type: 'string' },
      layers: { type: 'string' },
      lr: { type: 'string' },
      'max-seconds': { type: 'string' },
      seed: { type: 'string' },
      anneal: { type: 'string' },
      out: { type: 'string' },
      ...strictOption,
    });
    const steps = intOption('steps', values.steps as string | undefined, TRAIN_DEFAULTS.steps, 1);
    const batchRaw = values.batch as string | undefined;
    const batchArg = batchRaw === undefined ? undefined : intOption('batch', batchRaw, 0, 2);
    const layers = intOption('layers', values.layers as string | undefined, DEFAULT_FLOW_LAYERS, 1);
    const lrRaw = values.lr as string | undefined;
    const learningRate = lrRaw === undefined ? undefined : numberOption('lr', lrRaw, 0, (v) => v > 0, 'a positive number');
    const msRaw = values['max-seconds'] as string | undefined;
    const maxSeconds = msRaw === undefined ? undefined : numberOption('max-seconds', msRaw, 0, (v) => v > 0, 'a positive number');
    const annealRaw = values.anneal as string | undefined;
    const annealFrom = annealRaw === undefined ? undefined : numberOption('anneal', annealRaw, 0, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    const seedRaw = (values.seed as string | undefined) ?? '1';
    if (seedRaw.trim() === '') throw new UsageError('--seed is empty');
    const seed = /^-?\d+$/.test(seedRaw) ? Number(seedRaw) : seedRaw;
    const out = resolve((values.out as string | undefined) ?? 'flow.json');
    const ct = targetFromArgs(values, 'train');
    const batchSize = batchArg ?? defaultBatchSize(ct.target.dim);
    checkTrainingBatchMemory(ct.target.dim, batchSize, defaultHidden(ct.target.dim), layers);
    // A directory as --out would only fail after training, losing the flow: refuse it now.
    const existing = await stat(out).catch(() => null);
    if (existing?.isDirectory()) throw new UsageError(`--out ${values.out as string} is a directory; give the flow's file name, e.g. ${values.out as string}/flow.json`);
    await ensureOutputDir(dirname(out), '--out');
    const progress = createProgress(io, `${ct.target.name}/train`);
    const trained = await trainFlowFor(ct.target, {
      steps,
      batchSize,
      layers,
      learningRate,
      maxSeconds,
      annealFrom,
      seed,
      signal: io.signal,
      onProgress: (p) => progress.update(p.done, p.total, 'training'),
    });
    progress.stop(`${(trained.trainTimeMs / 1000).toFixed(1)} s`);
    const losses = trained.curve.points.filter((p) => Number.isFinite(p.loss));
    const finalLoss = losses.length ? losses[losses.length - 1].loss : NaN;
    let doc;
    let check;
    try {
      // The curve's ESS/n checkpoints use 256 draws each; the summary's figure needs far more.
      check = flowImportanceSample(trained.flow, ct.target, { n: TRAIN_CHECK_DRAWS, seed: `${seed}/train-check` });
      doc = flowToJSON(trained.flow, {
        target: { spec: (values.target as string | undefined) ?? null, expression: ct.expression ?? null, name: ct.target.name, dim: ct.target.dim, params: ct.target.params },
        training: {
          steps: trained.steps,
          requestedSteps: trained.requestedSteps,
          stoppedBy: trained.stoppedBy,
          batchSize,
          layers,
          seed,
          annealFrom: annealFrom ?? null,
          maxSeconds: maxSeconds ?? null,
          seconds: trained.trainTimeMs / 1000,
          densityEvals: trained.trainEvals,
          finalLoss: Number.isFinite(finalLoss) ? finalLoss : null,
          check: { draws: TRAIN_CHECK_DRAWS, essFraction: check.kishEss / TRAIN_CHECK_DRAWS, paretoK: Number.isFinite(check.paretoK) ? check.paretoK : null, logZ: Number.isFinite(check.logZ) ? check.logZ : null, logZSe: Number.isFinite(check.logZSe) ? check.logZSe : null },
          finalEssFraction: check.kishEss / TRAIN_CHECK_DRAWS,
          warnings: [...trained.warnings, ...check.warnings],
          curve: trained.curve.points,
        },
      });
    } finally {
      trained.flow.dispose();
    }
    await writeJsonAtomic(out, doc);
    const warnings = addWarnings([...trained.warnings], check.warnings);
    const stepsText = trained.steps === trained.requestedSteps ? `${trained.steps} steps` : `${trained.steps} of ${trained.requestedSteps} steps`;
    io.out(
      `trained ${ct.target.name} flow: ${stepsText} in ${(trained.trainTimeMs / 1000).toFixed(1)} s (${stopText(trained.stoppedBy, maxSeconds)}), final loss ${fmt(finalLoss)}`,
    );
    io.out(
      `importance check on ${TRAIN_CHECK_DRAWS} fresh draws: ESS/N ${(check.kishEss / TRAIN_CHECK_DRAWS).toFixed(3)}, PSIS k-hat ${fmt(check.paretoK)}, log Z ${fmt(check.logZ)} ± ${fmt(check.logZSe)}` +
        (ct.target.logZ !== undefined ? ` (exact ${fmt(ct.target.logZ)})` : ''),
    );
    for (const line of formatWarnings(warnings)) io.out(line);
    io.out(`wrote ${out}`);
    return warningsExitCode(Boolean(values.strict), warnings.length, io, 'train');
  },
};
