/**
 * What results.json records about the run itself: versions (flowsampler, Node, tfjs, backend)
 * and the machine (CPU model and count, memory, OS), so numbers can be compared honestly.
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../core/backend.js';

let pkgVersion: string | null = null;

/** flowsampler's version from its package.json (src/cli → ../../package.json, same from dist/cli). */
export function flowsamplerVersion(): string {
  if (pkgVersion) return pkgVersion;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    pkgVersion = pkg.version ?? 'unknown';
  } catch {
    pkgVersion = 'unknown';
  }
  return pkgVersion;
}

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  memoryGB: number;
  platform: string;
  release: string;
  arch: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
  };
}

export function versionInfo(): Record<string, string> {
  return {
    flowsampler: flowsamplerVersion(),
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: backendInfo()?.name ?? 'not initialised',
  };
}
