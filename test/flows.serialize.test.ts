/** Save/load round trip and clear errors for files that do not match. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { createDefaultFlow } from '../src/flows/defaults.js';
import { FastIafAffine } from '../src/flows/fastIaf.js';
import { flowFromJSON, flowToJSON } from '../src/flows/serialize.js';
import { loadFlow, saveFlow } from '../src/flows/flowFile.js';
import { ParseError } from '../src/core/errors.js';

beforeAll(async () => {
  await initBackend('wasm');
});

function perturbed(dim: number) {
  const flow = createDefaultFlow(dim, { layers: 2, hidden: [8], seed: 3 });
  for (const v of flow.trainableVariables()) {
    const t = tf.randomNormal(v.shape, 0, 0.3, 'float32', 9);
    v.assign(t);
    t.dispose();
  }
  // Fused IAF layers keep their weights pre-masked.
  for (const b of flow.bijectors) if (b instanceof FastIafAffine) b.applyMasks();
  return flow;
}

describe('saveFlow / loadFlow', () => {
  it('round trip gives the same draws and log densities, written atomically', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flows-'));
    const file = path.join(dir, 'flow.json');
    const flow = perturbed(3);
    saveFlow(flow, file, { target: { name: 'gaussian', dim: 3 }, training: { steps: 10 } });
    expect(fs.readdirSync(dir)).toEqual(['flow.json']); // no temporary left behind
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.format).toBe('flowsampler-flow');
    expect(doc.version).toBe(1);
    expect(doc.target.name).toBe('gaussian');
    const back = loadFlow(file);
    const a = flow.sampleArrays(20, 1);
    const b = back.sampleArrays(20, 1);
    // Same weights; the loaded layers may be the unfused twin, equal to float32 rounding.
    for (let i = 0; i < a.x.length; i++) expect(Math.abs(b.x[i] - a.x[i])).toBeLessThan(1e-5 * (1 + Math.abs(a.x[i])));
    for (let i = 0; i < a.logq.length; i++) expect(Math.abs(b.logq[i] - a.logq[i])).toBeLessThan(1e-4 * (1 + Math.abs(a.logq[i])));
    expect(flowToJSON(back).weights).toEqual(doc.weights);
    flow.dispose();
    back.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('a file written by the unfused IafAffine (unmasked weights) loads as the same function', () => {
    const flow = createDefaultFlow(3, { layers: 2, hidden: [8], seed: 4, fused: false });
    for (const v of flow.trainableVariables()) {
      const t = tf.randomNormal(v.shape, 0, 0.3, 'float32', 5);
      v.assign(t);
      t.dispose();
    }
    const back = flowFromJSON(flowToJSON(flow));
    const a = flow.sampleArrays(30, 2);
    const b = back.sampleArrays(30, 2);
    for (let i = 0; i < a.x.length; i++) expect(Math.abs(b.x[i] - a.x[i])).toBeLessThan(1e-5 * (1 + Math.abs(a.x[i])));
    for (let i = 0; i < a.logq.length; i++) expect(Math.abs(b.logq[i] - a.logq[i])).toBeLessThan(1e-4 * (1 + Math.abs(a.logq[i])));
    flow.dispose();
    back.dispose();
  });

  it('mismatched or malformed files give ParseErrors that say what is wrong', () => {
    const flow = perturbed(2);
    const good = flowToJSON(flow);
    const variants: [string, unknown, RegExp][] = [
      ['not json', '{oops', /invalid JSON/],
      ['wrong format', { ...good, format: 'something' }, /format/],
      ['future version', { ...good, version: 99 }, /version 99/],
      ['unknown layer', { ...good, architecture: [{ type: 'magic', config: {} }, ...good.architecture.slice(1)] }, /unknown bijector type "magic"/],
      ['missing weight', { ...good, weights: good.weights.slice(1) }, /weight tensors/],
      ['wrong shape', { ...good, weights: good.weights.map((w, i) => (i === 2 ? { ...w, shape: [1, 1] } : w)) }, /weight 2: shape/],
      ['short data', { ...good, weights: good.weights.map((w, i) => (i === 2 ? { ...w, data: 'AAAA' } : w)) }, /bytes/],
      ['not base64', { ...good, weights: good.weights.map((w, i) => (i === 2 ? { ...w, data: 'A@A=' } : w)) }, /weight 2: data is not valid base64/],
      ['dim mismatch', { ...good, dim: 5 }, /dim 5/],
    ];
    const before = tf.memory().numTensors;
    for (const [name, doc, re] of variants) {
      const b0 = tf.memory().numTensors;
      expect(() => flowFromJSON(doc)).toThrow(ParseError);
      expect(name + ' ' + (tf.memory().numTensors - b0)).toBe(name + ' 0');
      expect(() => flowFromJSON(doc)).toThrow(re);
    }
    expect(tf.memory().numTensors).toBe(before); // failed loads free what they built
    expect(() => loadFlow('/nonexistent/flow.json')).toThrow(/cannot read flow file/);
    flow.dispose();
  });
});
