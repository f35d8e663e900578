import { dirname, resolve } from 'node:path';
import { parseCommandArgs, intOption, numberOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir, ensureWritableFile } from '../outputDir.js';
import { createProgress } from '../progress.js';
import { readDataFiles, columnsOption } from '../dataFiles.js';
import { writeJsonAtomic } from '../../core/atomicWrite.js';
import { initBackend } from '../../core/backend.js';
import { fmt, formatWarnings } from '../../core/warnings.js';
import { flowToJSON } from '../../flows/serialize.js';
import { DENSITY_FLOW_DEFAULTS, type DensityFamily } from '../../flows/densityFlow.js';
import { FIT_DEFAULTS, type FitResult } from '../../flows/train/maximumLikelihood.js';
import { AUTO_DENSITY_CANDIDATES, fitDensityWithSelection, type DensityCandidate } from '../../flows/train/densitySelection.js';
import { logDensityQuantiles, quantileFromTable } from '../../flows/train/anomaly.js';
import { strictHelp, strictOption, warningsExitCode } from '../exitCodes.js';
import { workersOption } from '../workersOption.js';
import { defaultWorkers } from '../../study/pool.js';

/** Default share of the training rows below the anomaly threshold. */
export const DEFAULT_ANOMALY_QUANTILE = 0.01;

function stopText(r: FitResult): string {
  switch (r.stoppedBy) {
    case 'early-stopping':
      return `early stopping: no better validation NLL for ${r.options.patience} checks${r.plateauReductions > 0 ? ` after ${r.plateauReductions} learning-rate reduction${r.plateauReductions > 1 ? 's' : ''}` : ''}`;
    case 'time':
      return `the ${+r.options.maxSeconds.toFixed(1)} s time budget`;
    case 'steps':
      return 'all requested steps';
    default:
      return r.stoppedBy;
  }
}

export const fitCommand: Command = {
  name: 'fit',
  summary: 'fit a flow to data (CSV columns = variables) by maximum likelihood and save it',
  help: `usage: flowsampler fit DATA.csv [MORE.csv ...] --out FLOW.json [options]

Fits a normalizing flow to the rows of DATA.csv by maximum likelihood (minibatch negative
log-likelihood, Adam, a seeded validation split and early stopping on it; the flow keeps the
parameters of its best validation NLL). The data are standardised by a fixed affine layer of the
flow, so the saved flow's log density is on the data's own scale. Save and score new rows with
'flowsampler score'; draw from it with 'flowsampler sample'.

DATA.csv has a header line of column names and one row per observation. CmdStan CSV draws work
as they are (comments, warm-up and sampler columns such as lp__ are skipped; several files, one
per chain, are concatenated). Columns holding only text are left out and reported.

  --out FILE          where to save the flow (default flow.json)
  --columns A,B,C     the columns to fit (default: every numeric column)
  --drop-missing      drop rows with a missing value (NA, empty, NaN) instead of stopping
  --flow NAME         auto (default): fits both of the following side by side (one worker
                      thread each), on the same validation rows: a coupling spline flow,
                      and a maf affine flow with weight decay 1, kept instead only when its
                      validation log density is higher by more than 2 standard errors;
                      coupling: rational-quadratic spline coupling layers (RQ-NSF), each
                      paired with an affine coupling; one pass both ways;
                      maf: masked autoregressive layers: one-pass density, sampling in dim passes
  --transformer T     with coupling or maf: spline (default) or affine
  --weight-decay W    decoupled weight decay of the conditioners' weights (AdamW; default
                      ${FIT_DEFAULTS.weightDecay}, and 1 for auto's maf candidate)
  --layers L          flow layers (default ${DENSITY_FLOW_DEFAULTS.layers}; with splines each is an affine and a spline coupling)
  --hidden H          hidden units per conditioner layer (default max(64, 4 dim), at most 256)
  --input-bound C     soft bound c·tanh(a/c) of the conditioners' inputs on the standardised scale,
                      so rows beyond the data's range get the range edge's transform (default
                      ${DENSITY_FLOW_DEFAULTS.inputBound}; none to switch it off)
  --steps K           maximum optimiser steps (default ${FIT_DEFAULTS.steps})
  --batch B           rows per step (default ${FIT_DEFAULTS.batchSize})
  --lr RATE           peak Adam learning rate, cosine-decayed (default ${FIT_DEFAULTS.learningRate})
  --validation F      share of rows held out for early stopping (default ${FIT_DEFAULTS.validationFraction})
  --patience P        validation checks (every epoch, at least 10 and at most ${FIT_DEFAULTS.validateEvery} steps)
                      without improvement before the learning rate is divided by ${FIT_DEFAULTS.plateauFactor}
                      (at most ${FIT_DEFAULTS.plateauReductions} times) and then before stopping (default ${FIT_DEFAULTS.patience})
  --max-seconds T     wall-time budget of the whole fit (default ${FIT_DEFAULTS.maxSeconds}); with auto on
                      fewer workers than candidates, each candidate gets its share
  --workers N         worker threads fitting auto's candidates (default: all ${defaultWorkers()} cores, at
                      most one per candidate; 1 fits them one after another in this thread)
  --anomaly-quantile Q  rows whose log density is below the Q quantile of the data's are
                      anomalies for 'score' (default ${DEFAULT_ANOMALY_QUANTILE}; saved with the flow)
  --seed S            seed of the split, the minibatches and the initial weights (default 1)
${strictHelp}
  -h, --help          this help

Ctrl-C stops the fit and saves the best flow so far, marked interrupted (exit 130).`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'fit',
      argv,
      {
        out: { type: 'string' },
        columns: { type: 'string' },
        'drop-missing': { type: 'boolean' },
        flow: { type: 'string' },
        transformer: { type: 'string' },
        'weight-decay': { type: 'string' },
        layers: { type: 'string' },
        hidden: { type: 'string' },
        'input-bound': { type: 'string' },
        steps: { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        validation: { type: 'string' },
        patience: { type: 'string' },
        'max-seconds': { type: 'string' },
        workers: { type: 'string' },
        'anomaly-quantile': { type: 'string' },
        seed: { type: 'string' },
        ...strictOption,
      },
      true,
    );
    const family = (values.flow as string | undefined) ?? 'auto';
    if (family !== 'auto' && family !== 'coupling' && family !== 'maf') throw new UsageError(`--flow must be auto, coupling or maf for a density fit, got '${family}' (an IAF evaluates densities in dim sequential passes)`);
    const transformerRaw = values.transformer as string | undefined;
    if (family === 'auto' && transformerRaw !== undefined) throw new UsageError(`--transformer applies to --flow coupling or maf; --flow auto chooses its candidates' transformers`);
    const transformer = transformerRaw ?? DENSITY_FLOW_DEFAULTS.transformer;
    if (transformer !== 'spline' && transformer !== 'affine') throw new UsageError(`--transformer must be spline or affine, got '${transformer}'`);
    const weightDecayRaw = values['weight-decay'] as string | undefined;
    const weightDecay = weightDecayRaw === undefined ? undefined : numberOption('weight-decay', weightDecayRaw, 0, (v) => v >= 0 && v < Infinity, 'a number >= 0');
    const layers = intOption('layers', values.layers as string | undefined, DENSITY_FLOW_DEFAULTS.layers, 1);
    const hiddenRaw = values.hidden as string | undefined;
    const hiddenWidth = hiddenRaw === undefined ? undefined : intOption('hidden', hiddenRaw, 0, 1);
    const boundRaw = values['input-bound'] as string | undefined;
    const inputBound = boundRaw === 'none' ? null : numberOption('input-bound', boundRaw, DENSITY_FLOW_DEFAULTS.inputBound, (v) => v > 0 && v < Infinity, "a positive number or 'none'");
    const steps = intOption('steps', values.steps as string | undefined, FIT_DEFAULTS.steps, 1);
    const batchSize = intOption('batch', values.batch as string | undefined, FIT_DEFAULTS.batchSize, 1);
    const learningRate = numberOption('lr', values.lr as string | undefined, FIT_DEFAULTS.learningRate, (v) => v > 0, 'a positive number');
    const validationFraction = numberOption('validation', values.validation as string | undefined, FIT_DEFAULTS.validationFraction, (v) => v >= 0 && v < 1, 'in [0, 1)');
    if (family === 'auto' && validationFraction === 0) throw new UsageError('--flow auto compares its candidates on the validation rows: --validation must be above 0 (or choose --flow coupling or maf)');
    const patience = intOption('patience', values.patience as string | undefined, FIT_DEFAULTS.patience, 1);
    const maxSeconds = numberOption('max-seconds', values['max-seconds'] as string | undefined, FIT_DEFAULTS.maxSeconds, (v) => v > 0, 'a positive number');
    const workers = workersOption(values.workers as string | undefined);
    const quantile = numberOption('anomaly-quantile', values['anomaly-quantile'] as string | undefined, DEFAULT_ANOMALY_QUANTILE, (v) => v > 0 && v < 1, 'in (0, 1)');
    const seedRaw = (values.seed as string | undefined) ?? '1';
    if (seedRaw.trim() === '') throw new UsageError('--seed is empty');
    const seed = /^-?\d+$/.test(seedRaw) ? Number(seedRaw) : seedRaw;
    const out = resolve((values.out as string | undefined) ?? 'flow.json');
    const inputs = positionals.map((p) => resolve(p));
    if (inputs.includes(out)) throw new UsageError(`--out ${values.out as string} is one of the data files; writing the flow there would destroy the data`);

    const table = readDataFiles(positionals, { columns: columnsOption(values.columns as string | undefined), dropMissing: values['drop-missing'] === true }, 'fit');
    await ensureOutputDir(dirname(out), '--out');
    await ensureWritableFile(out, '--out');
    const dim = table.names.length;
    io.out(
      `data: ${table.rows} rows x ${dim} columns (${table.names.join(', ')})` +
        (table.droppedRows ? `; ${table.droppedRows} rows with missing values dropped` : '') +
        (table.textColumns.length ? `; text columns left out: ${table.textColumns.join(', ')}` : '') +
        (table.samplerColumns.length ? `; sampler columns left out: ${table.samplerColumns.join(', ')}` : '') +
        (table.warmupRows ? `; ${table.warmupRows} warm-up rows skipped` : ''),
    );
    await initBackend();
    const shared = { layers, hidden: hiddenWidth ? [hiddenWidth, hiddenWidth] : undefined, inputBound, seed };
    // One candidate when the family is given; auto's weight decay is its candidates' unless given.
    const candidates: DensityCandidate[] =
      family === 'auto'
        ? AUTO_DENSITY_CANDIDATES.map((c) => (weightDecay === undefined ? c : { ...c, fit: { ...c.fit, weightDecay } }))
        : [{ name: `${family} ${transformer}`, flow: { family: family as DensityFamily, transformer }, fit: { weightDecay: weightDecay ?? FIT_DEFAULTS.weightDecay } }];
    const progress = createProgress(io, 'fit');
    // Side by side, the line shows every candidate's step.
    const at = new Map<number, { name: string; step: number; steps: number }>();
    const started = performance.now();
    const selection = await fitDensityWithSelection(dim, table.values, {
      flow: shared,
      candidates,
      names: table.names,
      seed,
      steps,
      batchSize,
      learningRate,
      validationFraction,
      patience,
      maxSeconds,
      signal: io.signal,
      workers,
      onCandidateProgress: (name, k, p) => {
        at.set(k, { name, step: p.step, steps: p.steps });
        const all = [...at.values()];
        const label = candidates.length === 1 ? 'fitting' : all.length === 1 ? `fitting ${name} (${k + 1} of ${candidates.length})` : `fitting ${all.map((a) => `${a.name} ${a.step}`).join(', ')}`;
        progress.update(all.reduce((s, a) => s + a.step, 0), all.reduce((s, a) => s + a.steps, 0), label);
      },
    });
    const { flow, fit, chosen } = selection;
    try {
      const interrupted = selection.interrupted;
      const seconds = (performance.now() - started) / 1000;
      progress.stop(interrupted ? 'interrupted' : `${seconds.toFixed(1)} s`);
      // The anomaly threshold: the quantile of log q over every row fitted (training and validation).
      const lq = flow.logProbArrays(table.values);
      const quantiles = logDensityQuantiles(lq);
      const threshold = quantileFromTable(quantiles, quantile);
      const training = {
        method: 'maximum-likelihood',
        family: chosen.flow.family,
        transformer: chosen.flow.transformer,
        requestedFamily: family,
        weightDecay: chosen.weightDecay,
        candidates: selection.candidates.map((c) => ({ ...c, validationNll: Number.isFinite(c.validationNll) ? c.validationNll : null })),
        layers,
        hidden: hiddenWidth ?? null,
        seed,
        steps: fit.steps,
        requestedSteps: steps,
        stoppedBy: fit.stoppedBy,
        interrupted,
        bestStep: fit.bestStep,
        epochs: fit.epochs,
        seconds: fit.seconds,
        batchSize: fit.options.batchSize,
        learningRate,
        maxSeconds,
        workers: selection.workers,
        nTrain: fit.nTrain,
        nValidation: fit.nValidation,
        trainNll: fit.trainNll,
        validationNll: Number.isFinite(fit.bestValidationNll) ? fit.bestValidationNll : null,
        standardization: fit.standardization,
        history: fit.history.map((h) => ({ step: h.step, trainNll: Number.isFinite(h.trainNll) ? h.trainNll : null, validationNll: Number.isFinite(h.validationNll) ? h.validationNll : null })),
        warnings: fit.warnings,
        anomaly: { quantile, logDensityThreshold: threshold, rows: table.rows },
        logDensityQuantiles: quantiles,
      };
      const target = { data: { files: positionals, columns: table.names, rows: table.rows } };
      await writeJsonAtomic(out, flowToJSON(flow, { target, training }));
      if (interrupted) {
        io.err(`interrupted at step ${fit.steps}: wrote the best flow so far (step ${fit.bestStep}) to ${out}, marked interrupted`);
        return 130;
      }
      if (selection.candidates.length > 1) {
        for (const c of selection.candidates) {
          const vs = c.versusKept ? `; ${c.versusKept.gain >= 0 ? '+' : ''}${fmt(c.versusKept.gain)} ± ${fmt(c.versusKept.se)} nats per validation row against ${c.versusKept.against}` : '';
          io.out(`candidate ${c.name}: validation NLL ${fmt(c.validationNll)} (${c.parameters} weights, ${c.steps} steps in ${c.seconds.toFixed(1)} s)${vs}${c === chosen ? ', kept' : ''}`);
        }
      }
      io.out(
        `fitted a ${chosen.name} flow (${flow.parameterCount()} weights): ${fit.steps} steps (${fit.epochs.toFixed(1)} epochs) in ${fit.seconds.toFixed(1)} s, stopped by ${stopText(fit)}; kept step ${fit.bestStep}`,
      );
      io.out(`NLL per row: training ${fmt(fit.trainNll)}, validation ${fmt(fit.bestValidationNll)} (nats, on the data's scale)`);
      io.out(`anomaly threshold: log density ${fmt(threshold)} (the ${quantile} quantile of the ${table.rows} data rows)`);
      for (const line of formatWarnings(fit.warnings)) io.out(line);
      io.out(`wrote ${out}`);
      return warningsExitCode(values.strict === true, fit.warnings.length, io, 'fit');
    } finally {
      flow.dispose();
    }
  },
};
