import { describe, expect, it } from 'vitest';
import { ParameterError } from '../src/core/errors.js';
import { listTargets, parseTargetSpec } from '../src/targets/registry.js';
import * as targets from '../src/targets/index.js';

describe('target registry', () => {
  it('lists every built-in with parameters and defaults, and each default spec builds', () => {
    const list = listTargets();
    expect(list.map((t) => t.name)).toEqual(['banana', 'funnel', 'ring', 'gmm40', 'mix1d', 'manywell', 'gaussian', 'illgauss', 'u1', 'u2', 'u3', 'u4']);
    for (const e of list) {
      const t = parseTargetSpec(e.name);
      expect(t.dim).toBeGreaterThan(0);
      expect(Number.isFinite(t.logDensity(t.initialPoint ? t.initialPoint() : new Float64Array(t.dim)))).toBe(true);
      for (const p of e.params) expect(t.params[p.name]).toBe(p.default);
    }
  });

  it('parses parameters and aliases', () => {
    const b = parseTargetSpec('banana:dim=4,b=0.05');
    expect([b.dim, b.params.b, b.params.sigma1]).toEqual([4, 0.05, 10]);
    expect(parseTargetSpec(' Funnel : dim = 10 ').logZ).toBeCloseTo(10.287998, 6);
    expect(parseTargetSpec('ring').logZ).toBeCloseTo(1.509373, 6);
    expect(parseTargetSpec('gmm2d').name).toBe('ring');
    expect(parseTargetSpec('gmm40').name).toBe('gmm40');
    expect(parseTargetSpec('midgley40').dim).toBe(2);
    expect(parseTargetSpec('gaussian:dim=5').dim).toBe(5);
    const g = parseTargetSpec('illgauss:dim=50,condition=100,seed=1');
    expect(g.dim).toBe(50);
    expect(g.logZ).toBeCloseTo(25 * Math.log(2 * Math.PI), 8);
    expect(parseTargetSpec('u3').name).toBe('u3');
  });

  it('bad specs are ParameterErrors listing the valid choices', () => {
    expect(() => parseTargetSpec('bananna')).toThrow(/unknown target 'bananna' \(targets: banana, funnel/);
    expect(() => parseTargetSpec('banana:c=1')).toThrow(/unknown parameter 'c' \(parameters: dim, b, sigma1\)/);
    expect(() => parseTargetSpec('banana:b=abc')).toThrow(/invalid parameter b = 'abc'/);
    expect(() => parseTargetSpec('banana:b')).toThrow(/key=value/);
    expect(() => parseTargetSpec('banana:b=1,b=2')).toThrow(/twice/);
    expect(() => parseTargetSpec('banana:dim=1')).toThrow(/target banana: invalid parameter dim = 1/);
    expect(() => parseTargetSpec('funnel:dim=2.5')).toThrow(ParameterError);
    expect(() => parseTargetSpec('gmm40:dim=2')).toThrow(/parameters: none/);
    expect(() => parseTargetSpec('')).toThrow(ParameterError);
  });

  it('index exports every factory', () => {
    for (const f of ['gaussian', 'illConditionedGaussian', 'gaussianFromCovariance', 'banana', 'funnel', 'gaussianMixture', 'ring', 'midgley40', 'energy', 'expressionTarget', 'customTarget', 'listTargets', 'parseTargetSpec']) {
      expect(typeof (targets as Record<string, unknown>)[f], f).toBe('function');
    }
  });
});
