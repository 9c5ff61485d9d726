/** Test instrument: the largest typed array or ArrayBuffer a piece of code allocates. */

/** Runs `fn` while recording the byte size of every typed array or ArrayBuffer allocated by length. */
export function recordAllocations<T>(fn: () => T): { result: T | undefined; error: unknown; largest: number } {
  const ctors = ['ArrayBuffer', 'Uint8Array', 'Uint16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array'] as const;
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = ctors.map((c) => g[c]);
  let largest = 0;
  ctors.forEach((name, i) => {
    const real = saved[i] as { new (...a: unknown[]): unknown; BYTES_PER_ELEMENT?: number };
    g[name] = new Proxy(real, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number') largest = Math.max(largest, args[0] * (real.BYTES_PER_ELEMENT ?? 1));
        else if (args[0] && typeof args[0] === 'object' && !(args[0] instanceof ArrayBuffer) && 'length' in args[0]) {
          largest = Math.max(largest, (args[0] as ArrayLike<unknown>).length * (real.BYTES_PER_ELEMENT ?? 1));
        }
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget);
      },
    });
  });
  try {
    return { result: fn(), error: undefined, largest };
  } catch (error) {
    return { result: undefined, error, largest };
  } finally {
    ctors.forEach((name, i) => (g[name] = saved[i]));
  }
}
