/**
 * Size checks before allocating. A hostile or mistyped size (`gaussian:dim=1e9`, `--draws 1e9`,
 * a flow file with `hidden: [1e8]`) must fail at once with the amount it would need, not grow
 * until the kernel kills the process or V8 aborts with a heap dump.
 *
 * The budget is half the machine's memory (or of the cgroup limit, when lower), overridable with
 * FLOWSAMPLER_MEMORY_BUDGET (bytes, or with a unit: 512MB, 8GB). A single typed array is also
 * limited by V8 (2^32 − 1 elements).
 */
import { ParameterError } from './errors.js';
import { envVar, nodeBuiltin } from './platform.js';

/** Memory when the host does not say (browsers): 4 GB, or navigator.deviceMemory. */
function hostMemory(): number {
  const os = nodeBuiltin<{ totalmem(): number }>('node:os');
  if (os) {
    let total = os.totalmem();
    const p = (globalThis as { process?: { constrainedMemory?: () => number } }).process;
    const constrained = typeof p?.constrainedMemory === 'function' ? p.constrainedMemory() : 0;
    if (constrained && constrained > 0 && constrained < total) total = constrained;
    return total;
  }
  const dm = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  return (typeof dm === 'number' && dm > 0 ? dm : 4) * 2 ** 30;
}

/** V8's heap limit (Node), or 2 GB. */
function heapLimit(): number {
  const v8 = nodeBuiltin<{ getHeapStatistics(): { heap_size_limit: number } }>('node:v8');
  return v8 ? v8.getHeapStatistics().heap_size_limit : 2 ** 31;
}

export const FLOAT64_BYTES = 8;
export const FLOAT32_BYTES = 4;
/** V8's largest typed array, in elements. */
export const MAX_TYPED_ARRAY_LENGTH = 2 ** 32 - 1;

/** A size that does not fit in memory: says how much it needs and how much there is. */
export class MemoryLimitError extends ParameterError {}

let budgetOverride: number | null = null;

function parseBytes(raw: string): number | null {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*(b|kb|mb|gb|tb)?\s*$/i.exec(raw);
  if (!m) return null;
  const mult = { b: 1, kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30, tb: 2 ** 40 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  const v = Number(m[1]) * mult;
  return Number.isFinite(v) && v > 0 ? v : null;
}

/** The bytes one allocation may need: half the memory, or FLOWSAMPLER_MEMORY_BUDGET. */
export function memoryBudget(): number {
  if (budgetOverride !== null) return budgetOverride;
  const env = envVar('FLOWSAMPLER_MEMORY_BUDGET');
  if (env) {
    const v = parseBytes(env);
    if (v !== null) return v;
  }
  return hostMemory() / 2;
}

/** Sets the budget in bytes (null restores the default); for embedding and tests. */
export function setMemoryBudget(bytes: number | null): void {
  if (bytes !== null && !(bytes > 0)) throw new ParameterError(`memory budget must be positive, got ${bytes}`);
  budgetOverride = bytes;
}

/** 1536 → '1.5 kB'; 24e9 → '24.0 GB' (decimal units, as people read them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} bytes`;
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${Math.round(v)} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * Throws MemoryLimitError when `bytes` exceed the budget (or are not a finite number), e.g.
 * "gaussian with dim = 1000000000 would need 24.0 GB of memory; the budget is 11.7 GB (half
 * of this machine's memory; FLOWSAMPLER_MEMORY_BUDGET sets it): use a smaller dim".
 */
export function checkMemory(what: string, bytes: number, hint?: string): void {
  const budget = memoryBudget();
  if (Number.isFinite(bytes) && bytes <= budget) return;
  const source = budgetOverride !== null || envVar('FLOWSAMPLER_MEMORY_BUDGET') ? 'the memory budget' : "half of this machine's memory";
  throw new MemoryLimitError(
    `${what} would need ${formatBytes(bytes)} of memory; the budget is ${formatBytes(budget)} (${source}; FLOWSAMPLER_MEMORY_BUDGET sets it)${hint ? `: use ${hint}` : ''}`,
  );
}

/**
 * checkMemory for JavaScript objects and arrays (not typed arrays): they live on V8's heap, whose
 * limit (about 4 GB by default) is far below the machine's memory, and V8 aborts the process when
 * it runs out instead of throwing.
 */
export function checkHeap(what: string, bytes: number, hint?: string): void {
  const limit = heapLimit() / 2;
  if (Number.isFinite(bytes) && bytes <= limit) {
    checkMemory(what, bytes, hint);
    return;
  }
  throw new MemoryLimitError(
    `${what} would need ${formatBytes(bytes)} of JavaScript heap; half the heap limit is ${formatBytes(limit)} (node --max-old-space-size raises it)${hint ? `: use ${hint}` : ''}`,
  );
}

/** checkMemory for one typed array of `length` elements, also against V8's array size limit. */
export function checkArray(what: string, length: number, bytesPerElement: number, hint?: string): void {
  if (Number.isFinite(length) && length > MAX_TYPED_ARRAY_LENGTH) {
    throw new MemoryLimitError(`${what} needs an array of ${length} elements; JavaScript arrays hold at most ${MAX_TYPED_ARRAY_LENGTH}${hint ? `: use ${hint}` : ''}`);
  }
  checkMemory(what, length * bytesPerElement, hint);
}
