/**
 * Saved flows as files (Node only; the JSON format and its checks are in serialize.ts, which
 * runs anywhere). Writing is atomic (temporary file, then rename), so an interrupted save never
 * leaves half a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Flow } from './flow.js';
import { flowFromJSON, flowToJSON, type SavedFlow } from './serialize.js';
import { ParseError } from '../core/errors.js';

/** Writes the flow atomically; returns the path. */
export function saveFlow(flow: Flow, file: string, meta: { target?: Record<string, unknown>; training?: Record<string, unknown> } = {}): string {
  const json = JSON.stringify(flowToJSON(flow, meta));
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  fs.writeFileSync(tmp, json);
  fs.renameSync(tmp, file);
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
  const d = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedFlow;
  return { dim: d.dim, target: d.target, training: d.training };
}
