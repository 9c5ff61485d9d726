// Deno side of the training-worker test: the web entry's DemoSession loads tiny-roberta and the
// sentiment sentences from files given as bytes, trains GRASP, and writes the adapter as PEFT bytes,
// all through portable code. Prints the losses, the logits of a few texts and the adapter files (base64).
import * as W from '../../src/index.js';
import { DemoSession } from '../../src/web/session.js';

declare const Deno: { args: string[]; readDir(p: string): AsyncIterable<{ name: string; isFile: boolean }>; readFile(p: string): Promise<Uint8Array> };
const [checkpointDir, fixturesDir] = Deno.args;
async function filesOf(dir: string): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for await (const e of Deno.readDir(dir)) if (e.isFile) out[e.name] = await Deno.readFile(`${dir}/${e.name}`);
  return out;
}
await W.init();
const s = new DemoSession();
await s.load({ checkpoint: { files: await filesOf(checkpointDir) }, data: { files: await filesOf(fixturesDir) }, limitTrain: 32, evalExamples: 32 });
const run = await s.train({ method: 'grasp', steps: 40, batchSize: 32, lr: 0.03, headLr: 0.01 });
const texts = ['a wonderful, moving film', 'the battery died after a day'];
const logits = s.logits(texts).logits;
const b64 = (b: Uint8Array) => btoa(Array.from(b, (x) => String.fromCharCode(x)).join(''));
const files = Object.fromEntries(s.saveAdapter().files.map((f) => [f.name, b64(f.bytes)]));
console.log(JSON.stringify({ losses: run.losses, texts, logits, files }));
