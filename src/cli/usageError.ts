/**
 * Bad command-line usage: printed as one line on stderr, exit code 2. Its own file (command.ts
 * re-exports it) so that CLI modules the playground bundles for the browser (the sampler
 * registry) do not pull in node:util's argument parser.
 */
import { FlowsamplerError } from '../core/errors.js';

export class UsageError extends FlowsamplerError {}
