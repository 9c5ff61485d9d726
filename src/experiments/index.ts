/** Method comparisons: fine-tune, evaluate clean and under weight noise, collect report rows. */
export { compareMethods, type CompareOptions, type MethodRun } from './compare.js';
