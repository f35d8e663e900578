/**
 * Loading a model file (`--model model.mjs`): an ES module whose default export (or `model`
 * export) is made by `defineModel`, plus optional Stan JSON data (`--data data.json`), compiled
 * to its Target. Node-only (files); the CLI commands and `study` call `loadModelTarget`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { ParseError } from '../core/errors.js';
import { readStanJson } from '../io/stanJson.js';
import { isModel, type Model, type ModelTarget } from './model.js';

/** Imports a model module and returns its model. */
export async function loadModelFile(path: string): Promise<Model> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new ParseError('model file not found', undefined, path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new ParseError(`cannot load the model module: ${(e as Error).message.split('\n')[0]}`, undefined, path);
  }
  const m = mod.default ?? mod.model;
  if (!isModel(m)) throw new ParseError('the module must export a model made by defineModel (export default defineModel({...}))', undefined, path);
  return m;
}

/** The model of `modelPath` compiled with the data of `dataPath` (none: empty data). */
export async function loadModelTarget(modelPath: string, dataPath?: string): Promise<ModelTarget> {
  const model = await loadModelFile(modelPath);
  const data = dataPath ? readStanJson(dataPath) : {};
  return model.compile(data);
}
