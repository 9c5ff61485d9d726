/**
 * The demo page (`npx wasmgrad serve`): pick a checkpoint, fine-tune it with any method in a Web
 * Worker while the loss curve and tokens/s update live, evaluate before and after, sweep weight
 * noise, download the adapter as PEFT files, and (GPT-2) generate text before and after.
 * Plain DOM; every computation happens in the worker (src/web/worker.ts, built as ./worker.js).
 * `window.demo` holds the client and the page's state, for the browser test and the curious.
 * URL parameters: `model` and `method` preselect, `threads` forces the worker's thread count,
 * `limit-train` keeps only the first n training sentences (a small set the model can fit quickly).
 */
import { createTrainerWorker, type TrainerWorker } from '../../src/web/client.js';
import type { AdapterFiles, EvalSummary, FilesSpec, LoadInfo, MethodInfo, NoisePoint, TrainSummary } from '../../src/web/protocol.js';
import { LossChart } from './chart.js';
import { collectDropped, fromFolderInput, missingCheckpointFiles, type DroppedFolder } from './files.js';

type State = 'starting' | 'idle' | 'loading' | 'ready' | 'training' | 'busy' | 'broken';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const el = {
  runtime: $('runtime'), model: $<HTMLSelectElement>('model'), drop: $('drop'), folder: $<HTMLInputElement>('folder'),
  load: $<HTMLButtonElement>('load'), modelInfo: $('model-info'), task: $('task'), method: $<HTMLSelectElement>('method'),
  methodLabel: $('method-label'), steps: $<HTMLInputElement>('steps'), lr: $<HTMLInputElement>('lr'), batch: $<HTMLInputElement>('batch'), headLr: $<HTMLInputElement>('head-lr'),
  train: $<HTMLButtonElement>('train'), stop: $<HTMLButtonElement>('stop'), adapterInfo: $('adapter-info'),
  download: $<HTMLButtonElement>('download'), adapterFiles: $<HTMLInputElement>('adapter-files'), reloadLabel: $('reload-label'),
  stepStat: $('stat-step'), lossStat: $('stat-loss'), tpsStat: $('stat-tps'), timeStat: $('stat-time'), bar: $('progress-bar'),
  evaluate: $<HTMLButtonElement>('evaluate'), evalBody: $('eval-table').querySelector('tbody')!, evalNote: $('eval-note'),
  noise: $<HTMLButtonElement>('noise'), noiseBody: $('noise-table').querySelector('tbody')!,
  genCard: $('gen-card'), prompt: $<HTMLInputElement>('prompt'), generate: $<HTMLButtonElement>('generate'),
  genBefore: $('gen-before'), genAfter: $('gen-after'), status: $('status'),
};

/** Everything the page knows; exposed as window.demo. */
const demo = {
  client: null as TrainerWorker | null,
  state: 'starting' as State,
  info: null as LoadInfo | null,
  losses: [] as number[],
  lastRun: null as TrainSummary | null,
  before: null as EvalSummary | null,
  after: null as EvalSummary | null,
  noise: [] as NoisePoint[],
  adapter: null as AdapterFiles | null,
  dropped: null as DroppedFolder | null,
};
(window as unknown as { demo: typeof demo }).demo = demo;

const chart = new LossChart($<HTMLCanvasElement>('loss'));
const fmt = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const metricText = (name: string, v: number) => (name === 'perplexity' ? fmt(v, 2) : pct(v));
const secs = (s: number) => (s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

function status(text: string, kind: 'info' | 'error' | 'done' = 'info'): void {
  el.status.textContent = text;
  el.status.className = `status${kind === 'info' ? '' : ` ${kind}`}`;
}

function fail(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  status(message, 'error');
  console.error(err);
}

/** Enables exactly the controls that make sense in `state`. */
function setState(state: State): void {
  demo.state = state;
  document.body.dataset.state = state;
  const loaded = demo.info !== null;
  const idle = state === 'ready' || state === 'idle';
  el.load.disabled = !(idle && (el.model.value !== '' || demo.dropped !== null));
  el.model.disabled = !idle;
  el.method.disabled = !(state === 'ready');
  el.train.disabled = state !== 'ready';
  el.stop.disabled = !(state === 'training' || state === 'busy');
  el.evaluate.disabled = state !== 'ready';
  el.noise.disabled = state !== 'ready';
  el.generate.disabled = state !== 'ready' || demo.info?.taskKind !== 'causal-lm';
  el.download.disabled = !(state === 'ready' && demo.adapter !== null);
  el.adapterFiles.disabled = state !== 'ready';
  el.reloadLabel.classList.toggle('disabled', state !== 'ready');
  el.genCard.hidden = !(loaded && demo.info?.taskKind === 'causal-lm');
}

// ---- model choice -------------------------------------------------------------------------------

async function listCheckpoints(): Promise<void> {
  let list: { name: string; model_type: string; bytes: number }[] = [];
  try {
    const res = await fetch('./checkpoints/index.json');
    if (res.ok) list = await res.json();
  } catch {
    // offline without a cached index: only a dropped folder can be loaded
  }
  el.model.replaceChildren(
    ...list.map((c) => new Option(`${c.name} (${c.model_type}, ${(c.bytes / 2 ** 20).toFixed(1)} MB)`, c.name)),
    new Option('Your own folder (drop it below)', ''),
  );
  const wanted = new URLSearchParams(location.search).get('model');
  if (wanted && list.some((c) => c.name === wanted)) el.model.value = wanted;
  if (!list.length) status('No shipped checkpoints found at ./checkpoints/; drop a Hugging Face folder to start.');
}

function useDropped(folder: DroppedFolder): void {
  const missing = missingCheckpointFiles(folder);
  if (missing.length) {
    demo.dropped = null;
    fail(new Error(`${folder.label} is not a checkpoint folder this page can load: ${missing.join('; ')}`));
    setState(demo.state);
    return;
  }
  demo.dropped = folder;
  el.model.value = '';
  status(`${folder.label}: ${Object.keys(folder.files).length} files ready; press Load.`);
  setState(demo.state);
}

el.folder.addEventListener('change', () => {
  if (el.folder.files?.length) useDropped(fromFolderInput(el.folder.files));
});
el.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  el.drop.classList.add('over');
});
el.drop.addEventListener('dragleave', () => el.drop.classList.remove('over'));
el.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  el.drop.classList.remove('over');
  if (e.dataTransfer) collectDropped(e.dataTransfer).then(useDropped, fail);
});
el.model.addEventListener('change', () => {
  if (el.model.value !== '') demo.dropped = null;
  setState(demo.state);
});

function showModel(info: LoadInfo): void {
  const rows: [string, string][] = [
    ['model', `${info.architecture} (${info.family})`],
    ['parameters', info.parameters.toLocaleString('en-US')],
    ['vocabulary', info.vocabSize.toLocaleString('en-US')],
    ['examples', `${info.trainExamples.toLocaleString('en-US')} train · ${info.validationExamples} scored`],
    ['tokens per example', `≤ ${info.maxLength}`],
  ];
  if (info.freshKeys.length) rows.push(['new head', `${info.freshKeys.length} tensors start fresh (${info.freshKeys[0]}, …)`]);
  el.modelInfo.replaceChildren(...rows.flatMap(([k, v]) => [Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v })]));
  el.modelInfo.hidden = false;
  el.task.textContent = info.task === 'sentiment'
    ? 'Task: is a review sentence positive or negative? (sequence classification)'
    : 'Task: continue review sentences from their first half (causal language modelling)';
  el.task.classList.remove('muted');
  const previous = el.method.value || new URLSearchParams(location.search).get('method') || 'grasp';
  el.method.replaceChildren(...info.methods.map((m) => new Option(m.name, m.name)));
  el.method.value = info.methods.some((m) => m.name === previous) ? previous : info.methods[0]?.name ?? '';
  showMethod();
}

function methodInfo(): MethodInfo | undefined {
  return demo.info?.methods.find((m) => m.name === el.method.value);
}

function showMethod(): void {
  const m = methodInfo();
  el.methodLabel.textContent = m ? `${m.label} · default learning rate ${m.defaultLr}` : '';
  el.lr.placeholder = m ? String(m.defaultLr) : 'default';
}
el.method.addEventListener('change', showMethod);

async function load(): Promise<void> {
  const client = demo.client!;
  const checkpoint: FilesSpec = demo.dropped ? { files: demo.dropped.files, label: demo.dropped.label } : { url: `./checkpoints/${el.model.value}/` };
  setState('loading');
  status(`Loading ${demo.dropped?.label ?? el.model.value}…`);
  demo.info = null;
  demo.adapter = null;
  demo.before = demo.after = null;
  demo.noise = [];
  renderEval();
  renderNoise();
  try {
    const limit = new URLSearchParams(location.search).get('limit-train');
    const info = await client.load({ checkpoint, data: { url: './data/sentiment/' }, limitTrain: limit ? Number(limit) : undefined }, (e) => e.kind === 'status' && status(`Loading: ${e.message}…`));
    demo.info = info;
    showModel(info);
    el.adapterInfo.textContent = 'Train to get an adapter (PEFT files: adapter_config.json + adapter_model.safetensors).';
    el.genBefore.textContent = el.genAfter.textContent = '–';
    setState('busy');
    status('Scoring the checkpoint before fine-tuning…');
    demo.before = await client.evaluate({});
    renderEval();
    if (info.taskKind === 'causal-lm') await generateInto(el.genBefore);
    setState('ready');
    status(`Loaded ${info.source}. Choose a method and press Train.`, 'done');
  } catch (err) {
    setState(demo.info ? 'ready' : 'idle');
    fail(err);
  }
}
el.load.addEventListener('click', () => void load());

// ---- training -----------------------------------------------------------------------------------

function readNumber(input: HTMLInputElement, what: string, o: { integer?: boolean; min: number; max: number }): number | undefined {
  if (input.value.trim() === '') return undefined;
  const v = Number(input.value);
  if (!Number.isFinite(v) || v < o.min || v > o.max || (o.integer && !Number.isInteger(v))) {
    throw new Error(`${what} must be ${o.integer ? 'an integer' : 'a number'} between ${o.min} and ${o.max}, got "${input.value}"`);
  }
  return v;
}

async function train(): Promise<void> {
  const client = demo.client!;
  let args;
  try {
    args = {
      method: el.method.value as MethodInfo['name'],
      steps: readNumber(el.steps, 'Steps', { integer: true, min: 1, max: 100000 }) ?? 150,
      lr: readNumber(el.lr, 'Learning rate', { min: 1e-7, max: 0.999 }),
      batchSize: readNumber(el.batch, 'Batch', { integer: true, min: 1, max: 512 }),
      headLr: readNumber(el.headLr, 'Head learning rate', { min: 1e-7, max: 0.999 }),
    };
  } catch (err) {
    return fail(err);
  }
  demo.losses = [];
  demo.adapter = null;
  demo.after = null;
  demo.noise = [];
  renderEval();
  renderNoise();
  chart.reset(args.steps);
  el.bar.style.width = '0';
  el.genAfter.textContent = '–';
  setState('training');
  status(`Training ${args.method} for ${args.steps} steps…`);
  try {
    const run = await client.train(args, (e) => {
      if (e.kind !== 'train') return;
      demo.losses.push(e.loss);
      chart.add(e.step, e.loss);
      el.stepStat.textContent = `${e.step}/${e.total}`;
      el.lossStat.textContent = fmt(e.loss);
      el.tpsStat.textContent = Math.round(e.tokensPerSecond).toLocaleString('en-US');
      el.timeStat.textContent = secs(e.elapsedSeconds);
      el.bar.style.width = `${(100 * e.step) / e.total}%`;
      if (e.step === e.total) status('Scoring the fine-tuned model…');
    });
    demo.lastRun = run;
    demo.after = run.evaluation;
    renderEval();
    setState('busy');
    demo.adapter = await client.saveAdapter({});
    const kb = demo.adapter.files.reduce((n, f) => n + f.bytes.length, 0) / 1024;
    el.adapterInfo.textContent = `${run.method}: ${run.params.trainable.toLocaleString('en-US')} of ${run.params.total.toLocaleString('en-US')} parameters trained · adapter files ${kb.toFixed(1)} KB`;
    el.adapterInfo.classList.remove('muted');
    if (demo.info?.taskKind === 'causal-lm') await generateInto(el.genAfter);
    setState('ready');
    const m = demo.info!.metric;
    const summary = `${run.stopped ? 'Stopped after' : 'Done:'} ${run.steps} steps in ${secs(run.trainSeconds)} (${Math.round(run.tokensPerSecond).toLocaleString('en-US')} tokens/s); ${m} ${metricText(m, run.evaluation.metrics[m])}.`;
    status(summary, 'done');
  } catch (err) {
    setState('ready');
    fail(err);
  }
}
el.train.addEventListener('click', () => void train());
el.stop.addEventListener('click', () => {
  demo.client?.stop({}).then((r) => r.stopping && status('Stopping after this step…'), fail);
});

// ---- evaluation, noise, generation -------------------------------------------------------------

function renderEval(): void {
  const info = demo.info;
  el.evalBody.replaceChildren();
  if (!info) return;
  for (const name of [...info.metricNames, 'loss']) {
    const get = (e: EvalSummary | null) => (e ? (name === 'loss' ? e.loss : e.metrics[name]) : NaN);
    const b = get(demo.before);
    const a = get(demo.after);
    const tr = document.createElement('tr');
    const better = name === 'loss' || name === 'perplexity' ? a < b : a > b;
    const cells = [name, name === 'loss' ? fmt(b) : metricText(name, b), name === 'loss' ? fmt(a) : metricText(name, a)];
    cells.forEach((text, i) => {
      const td = document.createElement('td');
      td.textContent = Number.isNaN(i === 1 ? b : a) && i > 0 ? '–' : text;
      if (i === 2 && Number.isFinite(a) && Number.isFinite(b) && a !== b) td.className = better ? 'up' : 'down';
      tr.append(td);
    });
    el.evalBody.append(tr);
  }
  el.evalNote.textContent = `${demo.before?.examples ?? info.validationExamples} held-out examples.`;
}

async function evaluate(): Promise<void> {
  setState('busy');
  status('Evaluating…');
  try {
    const e = await demo.client!.evaluate({});
    if (e.adapted) demo.after = e;
    else demo.before = e;
    renderEval();
    status(`Evaluated ${e.examples} examples.`, 'done');
  } catch (err) {
    fail(err);
  } finally {
    setState('ready');
  }
}
el.evaluate.addEventListener('click', () => void evaluate());

function renderNoise(): void {
  el.noiseBody.replaceChildren();
  const metric = demo.info?.metric ?? '';
  const top = Math.max(1e-9, ...demo.noise.map((p) => p.mean));
  for (const p of demo.noise) {
    const tr = document.createElement('tr');
    const bar = Object.assign(document.createElement('div'), { className: 'bar' });
    bar.style.width = `${Math.max(2, (100 * p.mean) / top)}%`;
    const value = `${metricText(metric, p.mean)}${p.draws > 1 ? ` ± ${metricText(metric, p.std)}` : ''}`;
    tr.append(
      Object.assign(document.createElement('td'), { textContent: p.sigma.toFixed(2) }),
      Object.assign(document.createElement('td'), { textContent: value }),
      Object.assign(document.createElement('td'), { style: 'width:40%' }),
    );
    tr.lastElementChild!.append(bar);
    el.noiseBody.append(tr);
  }
}

async function noise(): Promise<void> {
  setState('busy');
  demo.noise = [];
  renderNoise();
  status('Sweeping weight noise…');
  try {
    const r = await demo.client!.noise({}, (e) => e.kind === 'noise' && status(`Sweeping weight noise: ${e.done}/${e.total} evaluations (σ = ${e.sigma})…`));
    demo.noise = r.points;
    renderNoise();
    status(r.stopped ? 'Noise sweep stopped.' : `Noise sweep done (${r.metric}${demo.adapter ? ', fine-tuned model' : ', checkpoint'}).`, 'done');
  } catch (err) {
    fail(err);
  } finally {
    setState('ready');
  }
}
el.noise.addEventListener('click', () => void noise());

async function generateInto(target: HTMLElement): Promise<void> {
  const prompt = el.prompt.value.trim() || 'The food was';
  const r = await demo.client!.generate({ prompt, maxNewTokens: 24 });
  const b = Object.assign(document.createElement('b'), { textContent: prompt });
  target.replaceChildren(b, document.createTextNode(r.text));
  target.classList.remove('muted');
}

el.generate.addEventListener('click', () => {
  setState('busy');
  generateInto(demo.adapter ? el.genAfter : el.genBefore).then(() => status('Generated (greedy).', 'done'), fail).finally(() => setState('ready'));
});

// ---- adapter files ------------------------------------------------------------------------------

el.download.addEventListener('click', () => {
  for (const f of demo.adapter?.files ?? []) {
    const url = URL.createObjectURL(new Blob([f.bytes.slice()], { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: f.name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  status('Downloaded adapter_config.json and adapter_model.safetensors: put both in one folder to load them with PEFT or wasmgrad.', 'done');
});

el.adapterFiles.addEventListener('change', async () => {
  const files = Array.from(el.adapterFiles.files ?? []);
  el.adapterFiles.value = '';
  if (!files.length) return;
  setState('busy');
  status('Loading the adapter…');
  try {
    const r = await demo.client!.loadAdapter({ files: { files: Object.fromEntries(files.map((f) => [f.name, f])), label: 'the chosen adapter files' } });
    demo.adapter = await demo.client!.saveAdapter({});
    demo.after = await demo.client!.evaluate({});
    renderEval();
    el.adapterInfo.textContent = `Loaded a ${r.method} adapter: ${r.params.trainable.toLocaleString('en-US')} trained parameters.`;
    status(`Adapter loaded (${r.method}) and evaluated.`, 'done');
  } catch (err) {
    fail(err);
  } finally {
    setState('ready');
  }
});

// ---- start --------------------------------------------------------------------------------------

async function start(): Promise<void> {
  setState('starting');
  const threads = new URLSearchParams(location.search).get('threads');
  const client = createTrainerWorker(new URL(`./worker.js${threads ? `?threads=${encodeURIComponent(threads)}` : ''}`, import.meta.url));
  demo.client = client;
  await listCheckpoints();
  try {
    const r = await client.ready;
    el.runtime.textContent = `${r.variant} · ${r.threads} thread${r.threads === 1 ? '' : 's'}${r.crossOriginIsolated ? '' : ' · not cross-origin isolated'}`;
    el.runtime.className = `badge ${r.crossOriginIsolated ? 'ok' : 'warn'}`;
    el.runtime.title = r.crossOriginIsolated
      ? 'The page is cross-origin isolated, so the kernels run on several threads'
      : 'Serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (npx wasmgrad serve does) to train on every core';
    setState('idle');
    status('Choose a checkpoint and press Load.');
  } catch (err) {
    el.runtime.textContent = 'kernels failed to start';
    el.runtime.className = 'badge bad';
    setState('broken');
    fail(err);
  }
}

if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  navigator.serviceWorker.register('./sw.js').catch((err) => console.warn('offline copy unavailable:', err));
}
void start();
