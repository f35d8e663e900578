// The shard worker's entry when flowsampler runs from its TypeScript sources (tests, `tsx`):
// registers tsx's loader in this thread, then loads the worker module. Built installs use
// dist/flows/train/parallel/shardWorker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./shardWorker.ts');
