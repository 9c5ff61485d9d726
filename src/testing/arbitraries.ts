/**
 * fast-check arbitraries for shapes and tensors, biased toward the sizes that break SIMD code:
 * 1, 3, 5 and 4k+1 / 4k+3 (vector body plus scalar tail), and toward large magnitudes on request.
 */
import fc from 'fast-check';

/** Dim sizes that exercise vector tails (1, 3, 5, 4k+1, 4k+3) mixed with arbitrary ones up to max. */
export function dimArb(max = 12): fc.Arbitrary<number> {
  const special = [1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 15, 17, 19, 33, 35, 65, 67].filter((d) => d <= max);
  return fc.oneof(fc.constantFrom(...special), fc.integer({ min: 1, max }));
}

export interface ShapeArbOptions {
  minRank?: number;
  maxRank?: number;
  /** Largest size of any dim (default 12). */
  maxDim?: number;
  /** Largest element count (default 4096); shapes above it are shrunk dim by dim. */
  maxSize?: number;
}

export function shapeArb(opts: ShapeArbOptions = {}): fc.Arbitrary<number[]> {
  const maxSize = opts.maxSize ?? 4096;
  return fc
    .array(dimArb(opts.maxDim ?? 12), { minLength: opts.minRank ?? 0, maxLength: opts.maxRank ?? 4 })
    .map((shape) => {
      const s = [...shape];
      while (s.reduce((a, b) => a * b, 1) > maxSize) {
        const i = s.indexOf(Math.max(...s));
        s[i] = Math.max(1, Math.floor(s[i] / 2));
      }
      return s;
    });
}

export interface ValuesOptions {
  /** Magnitude bound (default 3); use e.g. 1e4 to probe large values. */
  scale?: number;
  /** Keep values at least this far from 0 (for log, div, pow). */
  awayFromZero?: number;
  /** Only positive values. */
  positive?: boolean;
}

/** `n` finite float64 values. */
export function valuesArb(n: number, opts: ValuesOptions = {}): fc.Arbitrary<Float64Array> {
  const scale = opts.scale ?? 3;
  const away = opts.awayFromZero ?? 0;
  const lo = opts.positive ? away : -scale;
  return fc
    .array(fc.double({ min: lo, max: scale, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
    .map((xs) =>
      Float64Array.from(xs, (v) => {
        if (away > 0 && Math.abs(v) < away) return v < 0 ? -away : away;
        return v;
      }),
    );
}

/** A shape together with matching values. */
export function tensorArb(opts: ShapeArbOptions & ValuesOptions = {}): fc.Arbitrary<{ shape: number[]; data: Float64Array }> {
  return shapeArb(opts).chain((shape) =>
    valuesArb(shape.reduce((a, b) => a * b, 1), opts).map((data) => ({ shape, data })),
  );
}

/** Two shapes that broadcast together (numpy rules): some dims of each set to 1 or dropped from the front. */
export function broadcastPairArb(opts: ShapeArbOptions = {}): fc.Arbitrary<[number[], number[]]> {
  return shapeArb({ minRank: 1, ...opts }).chain((shape) =>
    fc
      .tuple(
        fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
        fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
        fc.integer({ min: 0, max: shape.length }),
      )
      .map(([ma, mb, drop]) => {
        const a = shape.map((d, i) => (ma[i] && !mb[i] ? 1 : d));
        const b = shape.map((d, i) => (mb[i] ? 1 : d)).slice(drop);
        return [a, b] as [number[], number[]];
      }),
  );
}
