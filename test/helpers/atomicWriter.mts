// Child process for test/core.atomicKill.test.ts: rewrites one file forever, alternating the
// async and the sync atomic writers, until it is killed. Each version is self-checking: a first
// line "v<k> <length>", a payload of that length, a last line "end v<k>".
import { writeFileAtomic, writeFileAtomicSync } from '../../src/core/atomicWrite.js';

const [file, sizeArg] = process.argv.slice(2);
const size = Number(sizeArg);
const payload = 'x'.repeat(size);
let k = 0;
process.stdout.write('ready\n');
for (;;) {
  k++;
  const text = `v${k} ${size}\n${payload}\nend v${k}\n`;
  if (k % 2 === 0) writeFileAtomicSync(file, text);
  else await writeFileAtomic(file, (function* () { for (let i = 0; i < text.length; i += 65536) yield text.slice(i, i + 65536); })());
}
