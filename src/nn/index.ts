/** Neural-network modules whose parameter names are Hugging Face checkpoint keys. */
export * from './module.js';
export * from './layers.js';
export * from './attention.js';
export * from './mlp.js';
export * from './anomaly.js';
