/** `--method NAME` for the commands that train a flow (train, compare). */
import { TRAIN_METHODS, type TrainMethod } from './flowTraining.js';
import { UsageError } from './command.js';

export const methodHelp = `  --method M         how the flow is trained (default auto):
${Object.entries(TRAIN_METHODS)
  .map(([k, v]) => `                       ${k.padEnd(13)} ${v}`)
  .join('\n')}`;

/** --method, given --no-coverage: 'auto' needs the coverage check, so without it reverse KL runs (and the command says so). */
export function methodOption(raw: string | undefined, noCoverage: boolean): TrainMethod {
  if (raw === undefined) return noCoverage ? 'reverse-kl' : 'auto';
  if (!(raw in TRAIN_METHODS)) throw new UsageError(`--method: unknown training method '${raw}' (use ${Object.keys(TRAIN_METHODS).join(', ')})`);
  if (raw === 'auto' && noCoverage) throw new UsageError('--method auto needs the coverage check: drop --no-coverage, or choose --method reverse-kl or mode-covering');
  return raw as TrainMethod;
}
