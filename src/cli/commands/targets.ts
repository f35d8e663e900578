import { parseCommandArgs, type Command } from '../command.js';
import { listTargets } from '../../targets/registry.js';

export const targetsCommand: Command = {
  name: 'targets',
  summary: 'list the built-in targets and their parameters',
  help: `usage: flowsampler targets [--json]

Lists every built-in target with its parameters and defaults. Use one in other commands as
--target NAME or --target NAME:key=value,key=value (e.g. funnel:dim=10,sigma=3).

  --json             machine-readable output
  -h, --help         this help`,
  async run(argv, io) {
    const { values } = parseCommandArgs('targets', argv, { json: { type: 'boolean' } });
    const list = listTargets();
    if (values.json) {
      io.out(JSON.stringify(list, null, 2));
      return 0;
    }
    const width = Math.max(...list.map((t) => t.name.length));
    for (const t of list) {
      io.out(`${t.name.padEnd(width)}  ${t.description}`);
      for (const p of t.params) io.out(`${' '.repeat(width)}    ${p.name} = ${String(p.default)}  ${p.description}`);
    }
    io.out('');
    io.out("Use as --target NAME or --target NAME:key=value,... ; or give your own density with --expr \"log p̃ in x1, x2, ...\".");
    return 0;
  },
};
