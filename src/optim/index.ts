export { Optimizer } from './optimizer.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { SGD, type SGDOptions } from './sgd.js';
export { clipGradNorm } from './clip.js';
export { HostMomentStore, type MomentStore, type OffloadOptions, type StoredMoments } from './offload.js';
export type { AdamWState } from './adamw.js';
