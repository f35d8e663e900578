/** `--flow NAME` (and `--lu`, `--actnorm`) for the commands that train a flow. */
import { FLOW_FAMILIES, type FlowFamily } from '../flows/index.js';
import { UsageError } from './command.js';

export const flowFamilyHelp = `  --flow NAME        flow family (default iaf):
${Object.entries(FLOW_FAMILIES)
  .map(([k, v]) => `                       ${k.padEnd(9)} ${v}`)
  .join('\n')}
  --lu               an LU-parametrised linear layer before each flow layer
  --actnorm          an ActNorm layer before each flow layer`;

export function flowFamilyOption(raw: string | undefined): FlowFamily {
  if (raw === undefined) return 'iaf';
  if (!(raw in FLOW_FAMILIES)) throw new UsageError(`--flow: unknown flow family '${raw}' (use ${Object.keys(FLOW_FAMILIES).join(', ')})`);
  return raw as FlowFamily;
}
