/** `--flow NAME` (and `--lu`, `--actnorm`) for the commands that train a flow. */
import { FLOW_FAMILIES, type FlowFamily } from '../flows/index.js';
import { UsageError } from './command.js';

export const flowFamilyHelp = `  --flow NAME        flow family (default iaf):
${Object.entries(FLOW_FAMILIES)
  .map(([k, v]) => `                       ${k.padEnd(9)} ${v}`)
  .join('\n')}
  --no-lu            no LU-parametrised linear layer before each flow layer (by default there
                     is one: it learns the correlations in a few hundred steps)
  --actnorm          an ActNorm layer before each flow layer`;

/** `--lu` (the default, kept for scripts that pass it) and `--no-lu`. */
export function luOption(values: Record<string, unknown>): boolean {
  if (values.lu === true && values['no-lu'] === true) throw new UsageError('--lu and --no-lu contradict each other: give one');
  return values['no-lu'] !== true;
}

export const luOptions = { lu: { type: 'boolean' }, 'no-lu': { type: 'boolean' } } as const;

export function flowFamilyOption(raw: string | undefined): FlowFamily {
  if (raw === undefined) return 'iaf';
  if (!(raw in FLOW_FAMILIES)) throw new UsageError(`--flow: unknown flow family '${raw}' (use ${Object.keys(FLOW_FAMILIES).join(', ')})`);
  return raw as FlowFamily;
}
