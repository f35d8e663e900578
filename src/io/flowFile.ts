/**
 * Flow files (Node only): `saveFlow` writes the JSON of src/flows/serialize.ts atomically
 * (temporary file, then rename), so an interrupted save never leaves half a file; `loadFlow`
 * reads one back with errors that name the file.
 */
import * as fs from 'node:fs';
import { writeFileAtomicSync } from '../core/atomicWrite.js';
import type { Flow } from '../flows/flow.js';
import { flowFromJSON, flowToJSON, type FlowMeta, type SavedFlow } from '../flows/serialize.js';
import { ParseError } from '../core/errors.js';

/** Writes the flow atomically; returns the path. */
export function saveFlow(flow: Flow, file: string, meta: FlowMeta = {}): string {
  writeFileAtomicSync(file, JSON.stringify(flowToJSON(flow, meta)));
  return file;
}

/** Loads a flow from a file path or an already parsed JSON object. */
export function loadFlow(source: string | SavedFlow): Flow {
  if (typeof source !== 'string') return flowFromJSON(source);
  let text: string;
  try {
    text = fs.readFileSync(source, 'utf8');
  } catch (e) {
    throw new ParseError(`cannot read flow file: ${(e as Error).message}`, undefined, source);
  }
  return flowFromJSON(text, source);
}

/** The metadata (target, training) of a saved flow without building it. */
export function readFlowMeta(file: string): Pick<SavedFlow, 'dim' | 'target' | 'training'> {
  let d: SavedFlow;
  try {
    d = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedFlow;
  } catch (e) {
    throw new ParseError(`cannot read flow file: ${(e as Error).message}`, undefined, file);
  }
  return { dim: d.dim, target: d.target, training: d.training };
}
