/**
 * `wasmgrad/web`: fine-tuning off the main thread. The page creates the worker with
 * {@link createTrainerWorker} (the worker's script is `wasmgrad/web/worker`, bundled by the page's
 * tooling, or `dist/web/worker.js` of `wasmgrad serve`); the worker runs a {@link DemoSession}.
 */
export { createTrainerWorker, WorkerError, type TrainerCalls, type TrainerWorker } from './client.js';
export * from './protocol.js';
export { DemoSession, DEMO_EVAL_EXAMPLES, DEMO_SIGMAS, methodsFor } from './session.js';
export { cachedSource, sourceOf } from './sources.js';
export { DEMO_TASKS, defaultDemoTask, demoTask, readSentiment } from './tasks.js';
