/**
 * Portable base64 (no Buffer): the same text as Node's Buffer, so flow files written before the
 * browser build load unchanged, and exact round trips across the chunk boundary.
 */
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64 } from '../src/core/base64.js';
import { RandomStream } from '../src/core/random.js';

describe('base64', () => {
  it('matches Buffer and round-trips, for lengths around the chunk size and every byte value', () => {
    const rng = new RandomStream(5);
    for (const n of [0, 1, 2, 3, 255, 0x8000 - 1, 0x8000, 0x8000 + 1, 100_003]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (n === 255 ? i : Math.floor(rng.uniform() * 256)));
      const text = bytesToBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(base64ToBytes(text)).toEqual(bytes);
    }
  });

  it('rejects text that is not base64', () => {
    expect(base64ToBytes('A@A=')).toBeNull();
    expect(base64ToBytes('AAAAA')).toBeNull();
  });
});
