import { dirname, resolve } from 'node:path';
import { parseCommandArgs, intOption, numberOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir } from '../outputDir.js';
import { targetFromArgs, targetOptions, targetOptionHelp, protectExprValue } from '../targetArgs.js';
import { trainFlowFor } from '../flowTraining.js';
import { createProgress } from '../progress.js';
import { writeJsonAtomic } from '../../core/atomicWrite.js';
import { flowToJSON, DEFAULT_FLOW_LAYERS } from '../../flows/index.js';
import { TRAIN_DEFAULTS, defaultBatchSize } from '../../flows/train.js';
import { flowCoverage, coverageLines } from '../coverageProbe.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'train an IAF flow against a target by reverse KL and save it (JSON)',
  help: `usage: flowsampler train (--target SPEC | --expr "EXPR") [options]

Trains the default flow (affine base + IAF layers) by minimising KL(q || p) and saves it as
JSON, with the target spec and a training summary. Load it with 'flowsampler sample'.

${targetOptionHelp}
  --steps K          optimiser steps (default ${TRAIN_DEFAULTS.steps})
  --batch B          base draws per step (default 1024 up to 16 dimensions, 512 above)
  --layers L         IAF layers (default ${DEFAULT_FLOW_LAYERS})
  --lr RATE          peak Adam learning rate, cosine-decayed (default ${TRAIN_DEFAULTS.learningRate})
  --max-seconds T    wall-time budget (optional)
  --anneal B0        anneal the target temperature from B0 in (0, 1] to 1 over half the steps
  --seed S           seed (default 1)
  --no-coverage      skip the coverage check (by default, after training the flow's importance
                     log Z is compared with a tempered-SMC estimate, and its marginal sds with a
                     short NUTS run's, to catch missed modes and thin tails that k-hat cannot see)
  --out FILE         where to save the flow (default flow.json)
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
      'no-coverage': { type: 'boolean' },
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
    let coverage = null;
    if (!values['no-coverage']) {
      const cp = createProgress(io, `${ct.target.name}/coverage`);
      cp.update(0, 1, 'checking');
      try {
        coverage = await flowCoverage(ct.target, trained.flow, { seed, signal: io.signal });
        cp.stop(`${coverage.seconds.toFixed(1)} s`);
      } catch (e) {
        cp.stop('stopped');
        trained.flow.dispose();
        throw e;
      }
    }
    const losses = trained.curve.points.filter((p) => Number.isFinite(p.loss));
    const ess = trained.curve.points.filter((p) => p.essFraction !== undefined);
    const finalLoss = losses.length ? losses[losses.length - 1].loss : NaN;
    const finalEss = ess.length ? ess[ess.length - 1].essFraction! : NaN;
    const doc = flowToJSON(trained.flow, {
      target: { spec: (values.target as string | undefined) ?? null, expression: ct.expression ?? null, name: ct.target.name, dim: ct.target.dim, params: ct.target.params },
      training: { steps, batchSize, layers, seed, annealFrom: annealFrom ?? null, seconds: trained.trainTimeMs / 1000, densityEvals: trained.trainEvals, finalLoss, finalEssFraction: finalEss, curve: trained.curve.points,
      ...(coverage ? { coverage: { status: coverage.result.status, flagged: coverage.result.flagged, cell: coverage.cell, flow: coverage.flow, reference: coverage.reference, probe: coverage.probe, logZGap: coverage.result.logZGap, gapSe: coverage.result.gapSe, missedMass: coverage.result.missedMass, thin: coverage.result.thin, messages: coverage.result.messages, skipped: coverage.skipped } } : {}) },
    });
    await writeJsonAtomic(out, doc);
    trained.flow.dispose();
    io.out(`trained ${ct.target.name} flow: ${steps} steps in ${(trained.trainTimeMs / 1000).toFixed(1)} s, final loss ${finalLoss.toFixed(3)}, ESS/n ${finalEss.toFixed(3)}`);
    if (coverage) for (const l of coverageLines(coverage)) io.out(l);
    io.out(`wrote ${out}`);
    return 0;
  },
};
