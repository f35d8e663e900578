import type { Command } from '../command.js';
import { parseCommandArgs } from '../command.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the main job: compare samplers on the banana and a multimodal target, write a report',
  help: 'usage: flowsampler demo [--seed S] [--out DIR]',
  async run(argv, io) {
    parseCommandArgs('demo', argv, { seed: { type: 'string' }, out: { type: 'string' } });
    io.out('flowsampler demo: not built yet');
    return 0;
  },
};
