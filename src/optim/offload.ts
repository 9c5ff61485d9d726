/**
 * Optimizer-state offloading: the moments of parameters live outside the WebAssembly heap between
 * their updates, in a {@link MomentStore} (host ArrayBuffers by default; a file store for Node is in
 * src/node/moment-file.ts), and are staged into a small heap area only while their unit (a
 * transformer block, or a single tensor) is updated.
 *
 * What overlaps: nothing. JavaScript runs the copies and the fused AdamW kernel on one thread, so
 * "prefetch the next unit while this one updates" is only an order of operations here. With
 * `slots: 2` the staging area is double-buffered in that order (write back unit i-1 and bring in
 * unit i+1 before updating unit i), the layout a store that copies asynchronously would need;
 * `slots: 1` (the default) copies in, updates and copies out one unit at a time, which keeps the
 * least state in the heap: one unit's two moments. Results are bit-identical to resident state
 * either way: the kernel sees the same float values, only their address differs.
 */
import type { Backend, Buf } from '../backend/kernels.js';
import type { Tensor } from '../tensor/tensor.js';

export type FloatArray = Float32Array | Float64Array;

/** Moments of one parameter as the store holds them. */
export interface StoredMoments {
  m: FloatArray;
  v: FloatArray;
}

/**
 * Where offloaded moments live, keyed by parameter. Stores own what they are given (`set` may keep
 * the arrays) and hand out arrays the caller only reads.
 */
export interface MomentStore {
  get(key: number): StoredMoments | undefined;
  set(key: number, moments: StoredMoments): void;
  delete(key: number): void;
  /** Bytes held for all keys (host memory or file size). */
  bytes(): number;
  /** Releases everything (file handles included). */
  close(): void;
}

/** Moments in host memory: plain typed arrays outside the WebAssembly heap. */
export class HostMomentStore implements MomentStore {
  private readonly map = new Map<number, StoredMoments>();

  get(key: number): StoredMoments | undefined {
    return this.map.get(key);
  }

  set(key: number, moments: StoredMoments): void {
    this.map.set(key, moments);
  }

  delete(key: number): void {
    this.map.delete(key);
  }

  bytes(): number {
    let n = 0;
    for (const { m, v } of this.map.values()) n += m.byteLength + v.byteLength;
    return n;
  }

  close(): void {
    this.map.clear();
  }
}

export interface OffloadOptions {
  /** Where moments live between updates (default: a new HostMomentStore). */
  store?: MomentStore;
  /**
   * The units updated one after another (a transformer block's tensors); parameters in no group are
   * units of their own. The heap holds the moments of at most `slots` units at a time.
   */
  groups?: readonly (readonly Tensor[])[];
  /** Staging slots: 1 (default, least memory) or 2 (double-buffered order; see the file comment). */
  slots?: 1 | 2;
  /**
   * Most elements staged at once (per moment). Larger units, and tensors larger than this (an
   * embedding table bigger than a block), are updated in consecutive pieces; the kernel is
   * elementwise, so the result is the same. Default: the largest group, or the largest tensor
   * without groups.
   */
  chunkElements?: number;
}

/** A stretch [offset, offset + n) of one parameter, updated as part of a unit. */
export interface Piece {
  p: Tensor;
  offset: number;
  n: number;
}

/**
 * The staging area and the unit-by-unit walk. `update(p, m, v)` runs the fused kernel of one
 * parameter on its staged moments.
 */
export class MomentStaging {
  readonly store: MomentStore;
  readonly slots: 1 | 2;
  private readonly units: Piece[][];
  private readonly unitSize: number;
  private buffers: { m: Buf; v: Buf }[] = [];

  constructor(private readonly backend: Backend, params: readonly Tensor[], o: OffloadOptions) {
    this.store = o.store ?? new HostMomentStore();
    this.slots = o.slots ?? 1;
    if (this.slots !== 1 && this.slots !== 2) throw new Error(`AdamW offload: slots = ${String(this.slots)} must be 1 or 2`);
    const own = new Set(params);
    const grouped = new Set<Tensor>();
    const groups: Tensor[][] = [];
    for (const [i, g] of (o.groups ?? []).entries()) {
      for (const p of g) {
        if (!own.has(p)) throw new Error(`AdamW offload: groups[${i}] holds ${p.describe()}, which the optimizer does not update`);
        if (grouped.has(p)) throw new Error(`AdamW offload: ${p.describe()} is in two groups; each parameter belongs to one unit`);
        grouped.add(p);
      }
      if (g.length) groups.push([...g]);
    }
    const size = (u: readonly Tensor[]) => u.reduce((n, p) => n + p.size, 0);
    const chunk = o.chunkElements ?? (groups.length ? Math.max(...groups.map(size)) : Math.max(...params.map((p) => p.size)));
    if (!(Number.isInteger(chunk) && chunk >= 1)) throw new Error(`AdamW offload: chunkElements = ${chunk} must be an integer >= 1`);
    for (const p of params) if (!grouped.has(p)) groups.push([p]);
    // Pack each unit's tensors into pieces of at most `chunk` elements, in order.
    this.units = [];
    for (const g of groups) {
      let unit: Piece[] = [];
      let room = chunk;
      for (const p of g) {
        for (let offset = 0; offset < p.size;) {
          if (room === 0) {
            this.units.push(unit);
            unit = [];
            room = chunk;
          }
          const n = Math.min(room, p.size - offset);
          unit.push({ p, offset, n });
          offset += n;
          room -= n;
        }
      }
      if (unit.length) this.units.push(unit);
    }
    this.unitSize = Math.max(...this.units.map((u) => u.reduce((n, x) => n + x.n, 0)));
  }

  /** Bytes the staging area holds in the heap once allocated (slots x 2 moments x the largest unit). */
  get stagingElements(): number {
    return this.slots * 2 * this.unitSize;
  }

  /**
   * Updates every parameter that has a gradient, unit by unit. `update` runs the kernel on one piece
   * whose moments are staged at m and v; a parameter's pieces come in order, offset 0 first.
   */
  run(update: (x: Piece, m: Buf, v: Buf) => void): void {
    const active = this.units.map((u) => u.filter((x) => x.p.grad)).filter((u) => u.length > 0);
    if (active.length === 0) return;
    this.allocate();
    const views = active.map((u, i) => this.layout(u, i % this.slots));
    const whole = (x: Piece) => x.offset === 0 && x.n === x.p.size;
    const load = (i: number) => {
      for (const x of views[i]) {
        const saved = this.store.get(x.piece.p.id);
        if (saved) {
          this.backend.write(x.m, whole(x.piece) ? saved.m : saved.m.subarray(x.piece.offset, x.piece.offset + x.piece.n));
          this.backend.write(x.v, whole(x.piece) ? saved.v : saved.v.subarray(x.piece.offset, x.piece.offset + x.piece.n));
        } else {
          this.backend.fill(x.m, 0);
          this.backend.fill(x.v, 0);
        }
      }
    };
    const writeBack = (i: number) => {
      for (const x of views[i]) {
        const { p, offset } = x.piece;
        if (whole(x.piece)) {
          this.store.set(p.id, { m: this.read(x.m), v: this.read(x.v) });
          continue;
        }
        // A piece: patch the stored arrays (zeros for a parameter's first update).
        const zeros = () => (this.backend.dtype === 'float64' ? new Float64Array(p.size) : new Float32Array(p.size));
        const saved = this.store.get(p.id) ?? { m: zeros(), v: zeros() };
        saved.m.set(this.read(x.m), offset);
        saved.v.set(this.read(x.v), offset);
        this.store.set(p.id, saved);
      }
    };
    load(0);
    for (let i = 0; i < active.length; i++) {
      if (this.slots === 2) {
        if (i > 0) writeBack(i - 1); // frees the slot unit i+1 goes into
        if (i + 1 < active.length) load(i + 1);
      }
      for (const x of views[i]) update(x.piece, x.m, x.v);
      if (this.slots === 1) {
        writeBack(i);
        if (i + 1 < active.length) load(i + 1);
      }
    }
    if (this.slots === 2) writeBack(active.length - 1);
  }

  /** Frees the staging area and the store. */
  dispose(): void {
    for (const { m, v } of this.buffers) {
      this.backend.free(m);
      this.backend.free(v);
    }
    this.buffers = [];
    this.store.close();
  }

  private read(b: Buf): FloatArray {
    return this.backend.read(b) as FloatArray;
  }

  private allocate(): void {
    if (this.buffers.length) return;
    const prev = this.backend.setMemoryCategory('optimizer');
    try {
      for (let s = 0; s < this.slots; s++) this.buffers.push({ m: this.backend.alloc(this.unitSize, 'f'), v: this.backend.alloc(this.unitSize, 'f') });
    } finally {
      this.backend.setMemoryCategory(prev);
    }
  }

  private layout(unit: Piece[], slot: number): { piece: Piece; m: Buf; v: Buf }[] {
    let off = 0;
    return unit.map((piece) => {
      const x = { piece, m: this.backend.view(this.buffers[slot].m, off, piece.n), v: this.backend.view(this.buffers[slot].v, off, piece.n) };
      off += piece.n;
      return x;
    });
  }
}
