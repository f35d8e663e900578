import { dirname, resolve } from 'node:path';
import { parseCommandArgs, intOption, numberOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir, ensureWritableFile } from '../outputDir.js';
import { resolveTargetArgs, targetOptions, targetOptionHelp, protectExprValue } from '../targetArgs.js';
import { trainFlowFor, cliBatchSize, MODE_COVERING_SECONDS, type TrainMethod } from '../flowTraining.js';
import { methodHelp, methodOption } from '../trainMethod.js';
import { createProgress } from '../progress.js';
import { writeJsonAtomic } from '../../core/atomicWrite.js';
import { readFileSync } from 'node:fs';
import { flowToJSON, flowFromJSON, defaultHidden, type Flow, type FlowFamily, type SavedFlow, type TrainCheckpoint } from '../../flows/index.js';
import { flowFamilyOption, flowFamilyHelp, luOption, luOptions } from '../flowFamily.js';
import { TRAIN_DEFAULTS } from '../../flows/index.js';
import { checkTrainingBatchMemory } from '../../flows/train/checks.js';
import { flowImportanceSample } from '../../samplers/flowImportance.js';
import { addWarnings, fmt, formatWarnings } from '../../core/warnings.js';
import { strictHelp, strictOption, warningsExitCode } from '../exitCodes.js';

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
    case 'usable':
      return 'stopped early: a usable proposal (k-hat and ESS/N check passed)';
    default:
      return `stopped: ${stoppedBy}`;
  }
}
import { flowCoverage, coverageLines } from '../coverageProbe.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a flow (IAF by default) against a target by reverse KL and save it (JSON)',
  help: `usage: flowsampler train (--target SPEC | --expr "EXPR" | --model FILE [--data FILE]) [options]

Trains a flow (by default affine base + IAF layers) by minimising KL(q || p) and saves it as
JSON, with the target spec and a training summary. Load it with 'flowsampler sample'.
The summary gives the steps actually run and why training stopped, and checks the flow by
importance sampling ${TRAIN_CHECK_DRAWS} fresh draws (Kish ESS/N, PSIS k-hat, log Z).

${targetOptionHelp}
${flowFamilyHelp}
  --steps K          optimiser steps (default ${TRAIN_DEFAULTS.steps})
  --batch B          base draws per step (default 256; with --all-steps 1024 up to 16
                     dimensions, 512 above)
  --layers L         flow layers (default 3; 4 for spline)
  --lr RATE          peak Adam learning rate, cosine-decayed (default ${TRAIN_DEFAULTS.learningRate})
  --max-seconds T    wall-time budget (optional)
  --anneal B0        anneal the target temperature from B0 in (0, 1] to 1 over half the steps
${methodHelp}
  --seed S           seed (default 1)
  --all-steps        train every step (default: stop once the flow is a usable proposal, i.e.
                     checks on 4096 fresh draws every 100 steps find PSIS k-hat < 0.6 and
                     Kish ESS/N >= 0.6 twice in a row)
  --workers N        threads that share each batch's gradient (default 1; the draws are the
                     same for any N, the gradient sums differ in rounding only)
  --resume FILE      continue an interrupted run (Ctrl-C or SIGTERM writes its checkpoint into
                     --out; a checkpoint is also written every 30 s): the same result as an
                     uninterrupted run at the same seed
  --out FILE         where to save the flow (default flow.json; with --resume, that file)
  --no-coverage      skip the coverage check (by default, after training the flow's importance
                     log Z is compared with a tempered-SMC estimate, and its marginal sds with a
                     short NUTS run's, to catch missed modes and thin tails that k-hat cannot see)
${strictHelp}
  -h, --help         this help`,
  async run(argv, io) {
    const { values } = parseCommandArgs('train', protectExprValue(argv), {
      ...targetOptions,
      steps: { type: 'string' },
      batch: { type: 'string' },
      layers: { type: 'string' },
      flow: { type: 'string' },
      ...luOptions,
      actnorm: { type: 'boolean' },
      lr: { type: 'string' },
      'max-seconds': { type: 'string' },
      seed: { type: 'string' },
      anneal: { type: 'string' },
      method: { type: 'string' },
      'all-steps': { type: 'boolean' },
      workers: { type: 'string' },
      resume: { type: 'string' },
      out: { type: 'string' },
      ...strictOption,
      'no-coverage': { type: 'boolean' },
    });
    const resumeFile = values.resume as string | undefined;
    const resumed = resumeFile ? readResume(resumeFile) : null;
    const prev = resumed?.settings;
    const steps = intOption('steps', values.steps as string | undefined, prev?.steps ?? TRAIN_DEFAULTS.steps, 1);
    const batchRaw = values.batch as string | undefined;
    const batchArg = batchRaw === undefined ? prev?.batchSize : intOption('batch', batchRaw, 0, 2);
    const family = resumed ? (prev!.family as FlowFamily) : flowFamilyOption(values.flow as string | undefined);
    const layersRaw = values.layers as string | undefined;
    const layers = layersRaw === undefined ? (prev?.layers ?? undefined) : intOption('layers', layersRaw, 0, 1);
    const lu = resumed ? prev!.lu : luOption(values);
    const actnorm = resumed ? prev!.actnorm : values.actnorm === true;
    const lrRaw = values.lr as string | undefined;
    const learningRate = lrRaw === undefined ? (prev?.learningRate ?? undefined) : numberOption('lr', lrRaw, 0, (v) => v > 0, 'a positive number');
    const msRaw = values['max-seconds'] as string | undefined;
    const maxSeconds = msRaw === undefined ? undefined : numberOption('max-seconds', msRaw, 0, (v) => v > 0, 'a positive number');
    const annealRaw = values.anneal as string | undefined;
    const annealFrom = annealRaw === undefined ? (prev?.annealFrom ?? undefined) : numberOption('anneal', annealRaw, 0, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    const seedRaw = (values.seed as string | undefined) ?? (prev ? String(prev.seed) : '1');
    if (seedRaw.trim() === '') throw new UsageError('--seed is empty');
    const seed = /^-?\d+$/.test(seedRaw) ? Number(seedRaw) : seedRaw;
    const untilUsable = resumed ? prev!.untilUsable : !values['all-steps'];
    const threads = intOption('workers', values.workers as string | undefined, 1, 1);
    // A resumed run continues its reverse-KL phase, then decides as the interrupted run would have.
    const method = resumed ? (prev!.method ?? 'reverse-kl') : methodOption(values.method as string | undefined, values['no-coverage'] === true);
    const out = resolve((values.out as string | undefined) ?? resumeFile ?? 'flow.json');
    const ct = resumed && !values.target && !values.expr && !values.model ? await resumed.target() : await resolveTargetArgs(values, 'train');
    const batchSize = batchArg ?? cliBatchSize(ct.target.dim, untilUsable);
    checkTrainingBatchMemory(ct.target.dim, batchSize, defaultHidden(ct.target.dim), layers ?? 3);
    await ensureOutputDir(dirname(out), '--out');
    await ensureWritableFile(out, '--out');
    const settings: TrainSettings = { steps, batchSize, family, layers: layers ?? null, lu, actnorm, learningRate: learningRate ?? null, annealFrom: annealFrom ?? null, seed, untilUsable, method };
    const spec = (values.target as string | undefined) ?? (values.expr === undefined && values.model === undefined ? (resumed?.spec ?? null) : null);
    const targetMeta = { spec, expression: ct.expression ?? null, model: ct.model ?? null, name: ct.target.name, dim: ct.target.dim, params: ct.target.params };
    const save = async (flow: Flow, extra: Record<string, unknown>) =>
      writeJsonAtomic(out, flowToJSON(flow, { target: targetMeta, training: { ...settings, ...extra } }));
    const progress = createProgress(io, `${ct.target.name}/train`);
    let resumeFlow: Flow | undefined;
    if (resumed) {
      resumeFlow = flowFromJSON(resumed.doc, resumeFile);
      if (resumeFlow.dim !== ct.target.dim) throw new UsageError(`--resume: the flow has dim ${resumeFlow.dim}, the target ${ct.target.dim}`);
    }
    const trained = await trainFlowFor(ct.target, {
      steps,
      batchSize,
      family,
      layers,
      lu,
      actnorm,
      learningRate,
      maxSeconds,
      annealFrom,
      method,
      seed,
      untilUsable,
      threads,
      ...(ct.source ? { source: ct.source } : {}),
      keepOnAbort: true,
      ...(resumed ? { resume: { flow: resumeFlow!, checkpoint: resumed.checkpoint } } : {}),
      signal: io.signal,
      onProgress: (p) => progress.update(p.done, p.total, p.phase ?? 'training'),
      onCheckpoint: (flow, checkpoint) => void save(flow, { interrupted: true, checkpoint }),
    });
    const r = trained.result;
    const mc = trained.method === 'mode-covering' ? trained.modeCovering : null;
    if (trained.stoppedBy === 'abort') {
      progress.stop('interrupted');
      if (mc) {
        // Mode-covering training keeps no optimiser checkpoint: the flow is saved as it stands.
        await save(trained.flow, { interrupted: true, method: 'mode-covering', stepsRun: trained.steps });
        trained.flow.dispose();
        io.err(`interrupted at step ${trained.steps} of mode-covering training: wrote the flow so far to ${out} (it cannot be resumed; train again to finish)`);
        return 130;
      }
      await save(trained.flow, { interrupted: true, checkpoint: r!.checkpoint });
      trained.flow.dispose();
      io.err(`interrupted at step ${r!.steps} of ${steps}: wrote ${out}; continue with: flowsampler train --resume ${out}`);
      return 130;
    }
    progress.stop(`${(trained.trainTimeMs / 1000).toFixed(1)} s`);
    let coverage = null;
    if (!values['no-coverage']) {
      const cp = createProgress(io, `${ct.target.name}/coverage`);
      cp.update(0, 1, 'checking');
      try {
        coverage = await flowCoverage(ct.target, trained.flow, { seed, signal: io.signal, ...(trained.pilotSmc ? { smcDraws: trained.pilotSmc, smcLabel: 'training pilot' } : {}) });
        cp.stop(`${coverage.seconds.toFixed(1)} s`);
      } catch (e) {
        cp.stop('stopped');
        trained.flow.dispose();
        throw e;
      }
    }
    const history = mc ? mc.result.history : r!.history;
    const finalLoss = history.length ? history[history.length - 1].loss : NaN;
    // Mode-covering: the whole of it (SMC population, and in auto the reverse-KL run and the pilot too).
    const seconds = mc ? trained.trainTimeMs / 1000 : r!.seconds;
    // The training checks use 2048 draws each; the summary's figure needs more.
    const check = flowImportanceSample(trained.flow, ct.target, { n: TRAIN_CHECK_DRAWS, seed: `${seed}/train-check` });
    const warnings = addWarnings([...trained.warnings], check.warnings);
    await save(trained.flow, {
      method: trained.method,
      ...(trained.notes.length ? { notes: trained.notes } : {}),
      stepsRun: trained.steps,
      requestedSteps: steps,
      stoppedBy: trained.stoppedBy,
      maxSeconds: maxSeconds ?? null,
      seconds,
      densityEvals: trained.trainEvals,
      finalLoss: Number.isFinite(finalLoss) ? finalLoss : null,
      check: {
        draws: TRAIN_CHECK_DRAWS,
        essFraction: check.kishEss / TRAIN_CHECK_DRAWS,
        paretoK: Number.isFinite(check.paretoK) ? check.paretoK : null,
        logZ: Number.isFinite(check.logZ) ? check.logZ : null,
        logZSe: Number.isFinite(check.logZSe) ? check.logZSe : null,
      },
      warnings,
      checks: mc ? mc.result.checks : r!.checks,
      curve: trained.curve.points,
      // A mode-covering flow has no reverse-KL checkpoint to resume.
      ...(mc ? { modeCovering: { smcLogZ: mc.smcLogZ, smcLogZSe: mc.smcLogZSe, populationEss: mc.populationEss, populationSteps: mc.result.populationSteps } } : { checkpoint: r!.checkpoint }),
      ...(coverage ? { coverage: { status: coverage.result.status, flagged: coverage.result.flagged, cell: coverage.cell, flow: coverage.flow, reference: coverage.reference, probe: coverage.probe, logZGap: coverage.result.logZGap, gapSe: coverage.result.gapSe, missedMass: coverage.result.missedMass, thin: coverage.result.thin, messages: coverage.result.messages, skipped: coverage.skipped } } : {}),
    });
    trained.flow.dispose();
    const n = trained.steps;
    const stepsText = n === steps ? `${n} steps` : `${n} of ${steps} steps`;
    const what = mc ? 'mode-covering spline-coupling flow (SMC population + maximum likelihood)' : `${family} flow`;
    io.out(`trained ${ct.target.name} ${what}: ${stepsText} in ${seconds.toFixed(1)} s (${stopText(trained.stoppedBy, mc ? (maxSeconds ?? MODE_COVERING_SECONDS) : maxSeconds)}), final loss ${fmt(finalLoss)}`);
    io.out(
      `importance check on ${TRAIN_CHECK_DRAWS} fresh draws: ESS/N ${(check.kishEss / TRAIN_CHECK_DRAWS).toFixed(3)}, PSIS k-hat ${fmt(check.paretoK)}, log Z ${fmt(check.logZ)} ± ${fmt(check.logZSe)}` +
        (ct.target.logZ !== undefined ? ` (exact ${fmt(ct.target.logZ)})` : ''),
    );
    for (const note of trained.notes) io.out(note);
    if (!coverage && method === 'reverse-kl') io.out('warning: coverage not checked (--no-coverage): reverse KL is mode-seeking and this flow may miss modes that k-hat and ESS cannot see');
    for (const line of formatWarnings(warnings)) io.out(line);
    if (coverage) for (const l of coverageLines(coverage)) io.out(l);
    io.out(`wrote ${out}`);
    return warningsExitCode(Boolean(values.strict), warnings.length, io, 'train');
  },
};

interface TrainSettings {
  steps: number;
  batchSize: number;
  family: string;
  layers: number | null;
  lu: boolean;
  actnorm: boolean;
  learningRate: number | null;
  annealFrom: number | null;
  seed: number | string;
  untilUsable: boolean;
  method?: TrainMethod;
}

/** A flow file written by an interrupted (or finished) `train`, to continue from. */
function readResume(file: string): { doc: SavedFlow; checkpoint: TrainCheckpoint; settings: TrainSettings; target: () => ReturnType<typeof resolveTargetArgs>; spec: string | null } {
  let doc: SavedFlow;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as SavedFlow;
  } catch (e) {
    throw new UsageError(`--resume ${file}: cannot read a flow file (${(e as Error).message})`);
  }
  const training = doc.training as (Partial<TrainSettings> & { checkpoint?: TrainCheckpoint }) | undefined;
  if (!training?.checkpoint || training.steps === undefined) throw new UsageError(`--resume ${file}: the file has no training checkpoint (it was not written by flowsampler train)`);
  const t = doc.target as { spec?: string | null; expression?: string | null; model?: { file: string; data: string | null } | null } | undefined;
  const args: Record<string, string | undefined> = t?.model
    ? { model: t.model.file, ...(t.model.data ? { data: t.model.data } : {}) }
    : t?.expression
      ? { expr: t.expression }
      : { target: t?.spec ?? undefined };
  if (!args.expr && !args.target && !args.model) throw new UsageError(`--resume ${file}: the file does not name its target; give --target, --expr or --model`);
  return { doc, checkpoint: training.checkpoint, settings: training as TrainSettings, target: () => resolveTargetArgs(args, 'train'), spec: args.target ?? null };
}
