/**
 * Error classes. Every error a user can cause (bad dimensions, bad parameters, non-finite
 * densities, malformed files or arguments) is a FlowsamplerError with a message that says what
 * was wrong and what to do. The CLI prints such errors as one line and exits with code 2;
 * anything else is a programming error and keeps its stack.
 */
export class FlowsamplerError extends Error {
  constructor(message: string) {
    // One line by contract, whatever user text (an expression, a file name) it quotes.
    super(String(message).replace(/\s*[\r\n]+\s*/g, ' '));
    this.name = new.target.name;
  }
}

/** A vector or tensor has the wrong shape, e.g. `target banana has dim 2, got 3`. */
export class DimensionError extends FlowsamplerError {}

/** A parameter is out of its domain (non-positive scale, non-PD covariance, bad count). */
export class ParameterError extends FlowsamplerError {}

/** A density or value that must be finite is NaN or infinite. */
export class NonFiniteError extends FlowsamplerError {}

/** An iterative solve (e.g. a residual flow's fixed-point inverse) hit its cap unconverged. */
export class ConvergenceError extends FlowsamplerError {}

/** A file or expression could not be parsed; `line` is 1-based when known. */
export class ParseError extends FlowsamplerError {
  constructor(message: string, readonly line?: number, readonly file?: string) {
    super(
      (file ? `${file}` : '') +
        (line !== undefined ? `${file ? ':' : 'line '}${line}` : '') +
        (file || line !== undefined ? ': ' : '') +
        message,
    );
  }
}

/** The work was stopped by the user (Ctrl-C / AbortSignal). */
export class AbortedError extends FlowsamplerError {
  constructor(message = 'aborted') {
    super(message);
  }
}

/** Throws a DimensionError unless `got === expected`. */
export function checkDim(what: string, expected: number, got: number): void {
  if (got !== expected) {
    throw new DimensionError(`dimension mismatch: ${what} has dim ${expected}, got ${got}`);
  }
}

/** Throws a ParameterError unless `value` is a finite number satisfying `ok`. */
export function checkParam(
  name: string,
  value: number,
  ok: (v: number) => boolean,
  requirement: string,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new ParameterError(`invalid parameter ${name} = ${String(value)}: must be ${requirement}`);
  }
  return value;
}

/** A positive integer parameter (counts: chains, draws, dimensions). */
export function checkPositiveInt(name: string, value: number): number {
  return checkParam(name, value, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
}
