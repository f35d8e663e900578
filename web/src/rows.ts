/**
 * One sampler's table row, as `flowsampler compare` makes it (src/cli/compareRun.ts): KL and
 * k-hat against ground truth where the target has it, ESS and R-hat from the draws, a flow
 * sampler charged its flow's training evaluations and carrying its training warnings, modes
 * visited for targets with known modes.
 */
import { groundTruthMetrics, modeVisits, summaryRowFor, type ComparisonRow, type Draws, type Target } from '../../src/index.js';
import type { SamplerEntry, TrainedFlow } from '../../src/cli/samplerRegistry.js';

export function comparisonRow(target: Target, entry: SamplerEntry, d: Draws, seed: number, trained?: TrainedFlow): { row: ComparisonRow; notes: string[] } {
  const isFlow = entry.kind === 'importance' || entry.kind === 'flow-mcmc';
  const gt = groundTruthMetrics(target, d, { seed, importance: entry.kind === 'importance' });
  const { row } = summaryRowFor(d, {
    trainEvals: isFlow && trained ? trained.trainEvals : 0,
    kl: gt.kl,
    khat: gt.khat,
    warnings: isFlow && trained ? trained.warnings : [],
  });
  if (target.modes) {
    const mv = modeVisits(d.values, d.dim, target.modes);
    row.modesVisited = mv.visited;
    row.modes = mv.modes;
  }
  const notes = typeof d.info?.warning === 'string' ? [`${entry.name}: ${d.info.warning}`] : [];
  return { row, notes };
}
