/**
 * A small WebAssembly binary reader for tests: which SIMD instructions a module's code uses, without
 * a disassembler. It decodes every function body instruction by instruction (each immediate by the
 * core spec's encoding), so a 0xFD byte inside an immediate is never taken for a SIMD prefix, and it
 * throws on an opcode it does not know or a body that does not end where its size says: a reader
 * that lost its place cannot report "no SIMD" by mistake.
 */

/** SIMD use of a module: each 0xFD-prefixed sub-opcode with its count, and whether a type or local is v128. */
export interface SimdUsage {
  ops: Map<number, number>;
  v128Types: boolean;
  /** Function bodies decoded. */
  functions: number;
}

/** Relaxed SIMD's sub-opcodes (0x100..0x113, e.g. f32x4.relaxed_madd = 0x105). */
export const isRelaxedOp = (op: number): boolean => op >= 0x100 && op <= 0x113;

const V128 = 0x7b;
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, V128, 0x70, 0x6f]);

export function simdUsage(bytes: Uint8Array): SimdUsage {
  let p = 8; // magic and version
  const fail = (what: string): never => {
    throw new Error(`wasm reader: ${what} at byte ${p}`);
  };
  const byte = () => (p < bytes.length ? bytes[p++]! : fail('unexpected end'));
  const u32 = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = byte();
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
      if (shift > 35) fail('LEB128 too long');
    }
  };
  const skipLeb = () => {
    while (byte() & 0x80);
  };
  const memarg = () => {
    const align = u32();
    if (align & 0x40) u32(); // multi-memory: a memory index follows
    u32();
  };
  const usage: SimdUsage = { ops: new Map(), v128Types: false, functions: 0 };

  const instruction = () => {
    const op = byte();
    if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1) return;
    if (op >= 0x45 && op <= 0xc4) return; // numeric instructions take no immediates
    if (op >= 0x02 && op <= 0x04) {
      // block type: empty, one value type, or a type index (s33)
      const b = bytes[p];
      if (b === 0x40 || VALTYPES.has(b!)) {
        if (b === V128) usage.v128Types = true;
        p++;
      } else skipLeb();
      return;
    }
    if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || op === 0xd2 || (op >= 0x20 && op <= 0x26) || op === 0x3f || op === 0x40) return void u32();
    if (op === 0x11 || op === 0x13) return void (u32(), u32());
    if (op === 0x0e) {
      for (let n = u32(); n >= 0; n--) u32(); // the labels and the default
      return;
    }
    if (op === 0x1c) {
      for (let n = u32(); n > 0; n--) if (byte() === V128) usage.v128Types = true;
      return;
    }
    if (op >= 0x28 && op <= 0x3e) return memarg();
    if (op === 0x41 || op === 0x42) return skipLeb();
    if (op === 0x43) return void (p += 4);
    if (op === 0x44) return void (p += 8);
    if (op === 0xd0) return void byte();
    if (op === 0xfc) {
      const sub = u32();
      if (sub <= 7) return;
      if (sub === 8 || sub === 10 || sub === 12 || sub === 14) return void (u32(), u32());
      if (sub <= 17) return void u32();
      return fail(`unknown 0xFC sub-opcode ${sub}`);
    }
    if (op === 0xfd) {
      const sub = u32();
      usage.ops.set(sub, (usage.ops.get(sub) ?? 0) + 1);
      if (sub <= 11 || sub === 92 || sub === 93) return memarg();
      if (sub === 12 || sub === 13) return void (p += 16); // v128.const, i8x16.shuffle
      if (sub >= 21 && sub <= 34) return void byte(); // extract/replace lane
      if (sub >= 84 && sub <= 91) return void (memarg(), byte()); // load/store lane
      return;
    }
    if (op === 0xfe) {
      const sub = u32();
      return sub === 3 ? void byte() : memarg(); // atomic.fence; every other atomic takes a memarg
    }
    fail(`unknown opcode 0x${op.toString(16)}`);
  };

  while (p < bytes.length) {
    const id = byte();
    const size = u32();
    const end = p + size;
    if (id === 1) {
      // function types: 0x60, params, results
      for (let n = u32(); n > 0; n--) {
        if (byte() !== 0x60) fail('function type without 0x60');
        for (let k = 0; k < 2; k++) for (let m = u32(); m > 0; m--) if (byte() === V128) usage.v128Types = true;
      }
    } else if (id === 10) {
      for (let n = u32(); n > 0; n--) {
        const bodySize = u32();
        const bodyEnd = p + bodySize;
        for (let groups = u32(); groups > 0; groups--) {
          u32();
          if (byte() === V128) usage.v128Types = true;
        }
        while (p < bodyEnd) instruction();
        if (p !== bodyEnd || bytes[bodyEnd - 1] !== 0x0b) fail('a function body that does not end with `end` where its size says');
        usage.functions++;
      }
    }
    p = end;
  }
  return usage;
}
