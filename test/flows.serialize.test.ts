/** Save/load round trip and clear errors for files that do not match. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { createDefaultFlow } from '../src/flows/builder.js';
import { createFamilyFlow, createSplineFlow } from '../src/flows/builder.js';
import { createDensityFlow } from '../src/flows/densityFlow.js';
import { flowFromJSON, flowToJSON, float32ToBase64 } from '../src/flows/serialize.js';
import { loadFlow, saveFlow } from '../src/io/flowFile.js';
import { randomizeParams } from './helpers/bijectorContract.js';
import { ParseError } from '../src/core/errors.js';

beforeAll(async () => {
  await initBackend('wasm');
});

function perturbed(dim: number) {
  const flow = createDefaultFlow(dim, { layers: 2, hidden: [8], seed: 3 });
  randomizeParams(flow, 'serialize', 0.3);
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
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
    expect(Array.from(b.logq)).toEqual(Array.from(a.logq));
    expect(flowToJSON(back).weights).toEqual(doc.weights);
    flow.dispose();
    back.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('every family and layer type loads back as the same function', () => {
    const flows = [
      createFamilyFlow('maf', 3, { layers: 2, hidden: [8], seed: 1, lu: true }),
      createFamilyFlow('coupling', 3, { layers: 2, hidden: [8], seed: 2, actnorm: true, transformer: { kind: 'rq-spline', bins: 4 } }),
      createSplineFlow(3, { layers: 2, hidden: [8], seed: 3 }),
      createFamilyFlow('iaf', 3, { layers: 2, hidden: [8], seed: 4, transformer: { kind: 'pw-linear', bins: 5 } }),
      // Bounded conditioner inputs (the density flows): a small bound so that it changes the function.
      createDensityFlow(3, { layers: 2, hidden: [8], seed: 5, inputBound: 0.3 }),
      createDensityFlow(3, { family: 'maf', transformer: 'affine', layers: 2, hidden: [8], seed: 6, inputBound: 0.3 }),
    ];
    for (const flow of flows) {
      randomizeParams(flow, 'families', 0.3);
      const back = flowFromJSON(JSON.parse(JSON.stringify(flowToJSON(flow))));
      expect(back.bijectors.map((b) => b.type)).toEqual(flow.bijectors.map((b) => b.type));
      expect(Array.from(back.sampleArrays(20, 3).logq)).toEqual(Array.from(flow.sampleArrays(20, 3).logq));
      expect(back.bijectors.map((b) => b.getConfig())).toEqual(flow.bijectors.map((b) => b.getConfig()));
      flow.dispose();
      back.dispose();
    }
  });

  it('a flow saved before the engine redesign (iaf-affine layers, [n] vector shapes, unmasked weights) loads as the same function', () => {
    const flow = createDefaultFlow(3, { layers: 2, hidden: [8], seed: 4 });
    randomizeParams(flow, 'legacy', 0.3);
    const doc = flowToJSON(flow);
    // The old format: layer type 'iaf-affine' with { dim, hidden, order, sBias }, vectors as [n],
    // and weights stored unmasked (the old reference layer did not mask them).
    const legacy = {
      ...doc,
      architecture: doc.architecture.map((a) =>
        a.type === 'autoregressive' ? { type: 'iaf-affine', config: { dim: 3, hidden: a.config.hidden, order: a.config.order, sBias: 2 } } : a,
      ),
      weights: doc.weights.map((w, i) => {
        const p = flow.trainableParams()[i];
        const v = p.values().slice();
        if (p.gradMask) for (let k = 0; k < v.length; k++) if (p.gradMask.init[k] === 0) v[k] = 0.7;
        return { ...w, shape: p.rows === 1 ? [p.cols] : w.shape, data: float32ToBase64(v) };
      }),
    };
    const back = flowFromJSON(legacy);
    expect(Array.from(back.sampleArrays(30, 2).logq)).toEqual(Array.from(flow.sampleArrays(30, 2).logq));
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
      ['wrong shape', { ...good, weights: good.weights.map((w, i) => (i === 2 ? { ...w, shape: [1, 1] } : w)) }, /weight 2 \(made.W0\): shape/],
      ['short data', { ...good, weights: good.weights.map((w, i) => (i === 2 ? { ...w, data: 'AAAA' } : w)) }, /not base64 of \d+ float32 values/],
      ['bad base64', { ...good, weights: good.weights.map((w, i) => (i === 2 ? { ...w, data: '@@@@' } : w)) }, /not base64/],
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
