/**
 * Random masking for imputation (TimesNet's protocol, which GPT4TS follows): each value of a window
 * is hidden with probability `ratio`, independently. Masks are a pure function of (seed, key), so a
 * training step's masks are the same when a run resumes and the validation masks are the same at
 * every evaluation. Hidden values are replaced by the mean of the window's observed values of that
 * channel (0, the training mean, when none is observed): the model's instance normalisation then
 * sees the observed values' mean exactly. (GPT4TS zeroes hidden values and computes the statistics
 * over observed values only; filling with the observed mean gets the same mean without a mask input.)
 */
import { seededUniform } from './synthetic.js';

/** 1 = hidden, for `size` values; each hidden with probability `ratio`, from (seed, key). */
export function randomMask(size: number, ratio: number, seed: number, key: number): Uint8Array {
  if (!(ratio > 0 && ratio < 1)) throw new Error(`randomMask: ratio ${ratio} must be in (0, 1) (the share of values hidden)`);
  const u = seededUniform((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(key + 1, 0x85ebca6b)) >>> 0);
  return Uint8Array.from({ length: size }, () => (u() < ratio ? 1 : 0));
}

/**
 * A copy of `values` (windows [B, L, M] row-major) whose hidden values (mask 1) are the mean of the
 * observed values of their window and channel.
 */
export function fillMasked(values: Float32Array, mask: Uint8Array, length: number, channels: number): Float32Array {
  if (values.length !== mask.length || values.length % (length * channels) !== 0) {
    throw new Error(`fillMasked: ${values.length} values, ${mask.length} mask entries, windows of ${length} x ${channels}; pass matching sizes`);
  }
  const out = Float32Array.from(values);
  const per = length * channels;
  for (let w = 0; w < values.length / per; w++) {
    for (let c = 0; c < channels; c++) {
      let s = 0;
      let n = 0;
      for (let t = 0; t < length; t++) {
        const i = w * per + t * channels + c;
        if (!mask[i]) {
          s += values[i];
          n++;
        }
      }
      const fill = n > 0 ? s / n : 0;
      for (let t = 0; t < length; t++) {
        const i = w * per + t * channels + c;
        if (mask[i]) out[i] = fill;
      }
    }
  }
  return out;
}
