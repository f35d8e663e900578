/** The learning-rate schedules of flow training: a linear warm-up, then constant, cosine or exponential decay. */

export type LearningRateSchedule = 'constant' | 'cosine' | 'exponential';

/** Learning rate at `step` (0-based) of `total`. */
export function learningRateAt(
  step: number,
  total: number,
  peak: number,
  schedule: LearningRateSchedule,
  warmup: number,
  finalFactor: number,
): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const t = total > warmup ? Math.min(1, (step - warmup) / (total - warmup)) : 1;
  switch (schedule) {
    case 'constant':
      return peak;
    case 'cosine':
      return peak * (finalFactor + (1 - finalFactor) * 0.5 * (1 + Math.cos(Math.PI * t)));
    case 'exponential':
      return peak * Math.pow(finalFactor, t);
  }
}
