/**
 * The flow worker's run: build the target, train the default IAF flow exactly as
 * `flowsampler compare` does (trainFlowFor: same seeds, same stop-when-usable checks), post the
 * loss and the flow's draws over the density while it trains, then run the flow samplers (iaf,
 * imh from the CLI's registry) on the trained flow and post their rows. A stop keeps the flow as
 * it is (trainFlowFor's keepOnAbort): its iaf row still shows how good it got; samplers that
 * would run chains are stopped.
 */
import { AbortedError, FlowsamplerError, failedRow, formatWarnings } from '../../src/index.js';
import { samplerRegistry, type RunContext, type TrainedFlow } from '../../src/cli/samplerRegistry.js';
import { trainFlowFor } from '../../src/cli/flowTraining.js';
import type { TrainingPoint } from '../../src/report/trainingFigure.js';
import { FigureHub } from './figureHub.js';
import { comparisonRow } from './rows.js';
import { targetForRun, summarizeTarget } from './targetChoice.js';
import type { FromWorker, RunSettings, TargetChoice } from './protocol.js';

/** Least time between live figure updates: the page re-renders each one. */
const LIVE_FIGURE_MS = 800;

export interface FlowRun {
  run: number;
  stop: AbortController;
  /** Set once the target is built; classical results arriving later go here. */
  hub: FigureHub | null;
  /** Whether training is over (results arriving then re-render at once). */
  trained: boolean;
}

export async function runFlow(run: FlowRun, choice: TargetChoice, settings: RunSettings, post: (m: FromWorker) => void): Promise<void> {
  const id = run.run;
  const target = targetForRun(choice, id, post);
  if (!target) return;
  post({ type: 'target', run: id, target: summarizeTarget(target) });
  const hub = new FigureHub(target, settings.seed, settings.chains);
  run.hub = hub;
  const curveName = 'iaf (reverse KL)';
  const live: TrainingPoint[] = [];
  let lastFigures = 0;
  let trained: TrainedFlow | null = null;
  try {
    trained = await trainFlowFor(target, {
      seed: settings.seed,
      steps: settings.steps,
      signal: run.stop.signal,
      keepOnAbort: true,
      onProgress: (p) => {
        // The SMC pilot and a mode-covering fit report their phase only: nothing to plot yet.
        if (p.loss === undefined || !p.flow) {
          post({ type: 'training', run: id, step: p.done, total: p.total, loss: NaN, elboMA: NaN, stepsPerSec: 0, phase: p.phase });
          return;
        }
        const point: TrainingPoint = { step: p.done, loss: p.loss };
        post({ type: 'training', run: id, step: p.done, total: p.total, loss: p.loss, elboMA: p.elboMA ?? NaN, stepsPerSec: p.stepsPerSec ?? 0 });
        const now = performance.now();
        const redraw = now - lastFigures >= LIVE_FIGURE_MS;
        if (redraw) {
          lastFigures = now;
          const ess = hub.snapshotFlow(p.flow);
          if (ess !== null) point.essFraction = ess;
        }
        // A step whose loss was not finite (skipped by the trainer) has nothing to plot.
        if (Number.isFinite(point.loss) || point.essFraction !== undefined) live.push(point);
        if (redraw) {
          hub.setCurve({ name: curveName, points: live });
          post({ type: 'figures', run: id, figures: hub.figures(true), live: true });
        }
      },
    });
  } catch (e) {
    run.trained = true;
    if (!(e instanceof FlowsamplerError)) throw e;
    // Training refused to start or failed (e.g. a density the flow cannot evaluate): the
    // classical samplers still run; their figures come without the flow.
    post({ type: 'error', run: id, where: 'training', message: e.message });
    hub.setCurve({ name: curveName, points: live });
    post({ type: 'figures', run: id, figures: hub.figures(false), live: false });
    return;
  }
  try {
    hub.snapshotFlow(trained.flow);
    // The CLI's curve (the trainer's history, ESS from its proposal checks every 100 steps);
    // a run too short for two checks keeps the live ESS points, so that panel is not empty.
    const checked = trained.curve.points.filter((p) => p.essFraction !== undefined).length >= 2;
    hub.setCurve(checked ? trained.curve : { ...trained.curve, points: [...trained.curve.points, ...live.filter((p) => p.essFraction !== undefined).map((p) => ({ step: p.step, loss: NaN, essFraction: p.essFraction }))].sort((a, b) => a.step - b.step) });
    post({
      type: 'trained',
      run: id,
      steps: trained.steps,
      total: trained.requestedSteps,
      stoppedBy: trained.stoppedBy,
      seconds: trained.trainTimeMs / 1000,
      warnings: formatWarnings(trained.warnings, 'flow training'),
    });
    for (const name of settings.flowSamplers) {
      const entry = samplerRegistry.find((s) => s.name === name);
      if (!entry) throw new Error(`unknown flow sampler ${name}`);
      const ctx: RunContext = {
        target,
        seed: settings.seed,
        chains: settings.chains,
        draws: settings.draws,
        signal: run.stop.signal,
        onProgress: (p) => post({ type: 'sampler', run: id, sampler: name, done: p.done, total: p.total, phase: p.phase }),
        trainedFlow: async () => trained!,
      };
      try {
        const d = await entry.run(ctx);
        d.target = target.name;
        const { row, notes } = comparisonRow(target, entry, d, settings.seed, trained);
        hub.addRow(row);
        post({ type: 'row', run: id, row, notes });
      } catch (e) {
        if (e instanceof AbortedError) {
          post({ type: 'row', run: id, row: failedRow(name, 'stopped by the user'), notes: [] });
        } else if (e instanceof FlowsamplerError) {
          post({ type: 'row', run: id, row: failedRow(name, e.message), notes: [] });
        } else throw e;
      }
    }
    run.trained = true;
    post({ type: 'figures', run: id, figures: hub.figures(false), live: false });
  } finally {
    run.trained = true;
    trained.flow.dispose();
  }
}
