/**
 * A small WebAssembly binary reader for tests: which SIMD instructions a module's code uses, without
 * a disassembler. It decodes every function body instruction by instruction (each immediate by the
 * core spec's encoding), so a 0xFD byte inside an immediate is never taken for a SIMD prefix, and it
 * throws on an opcode it does not know or a body that does not end where its size says: a reader
 * that lost its place cannot report "no SIMD" by mistake.
 */

/** SIMD use of a module or of part of it: each 0xFD-prefixed sub-opcode with its count, and whether a type or local is v128. */
export interface SimdUsage {
  ops: Map<number, number>;
  v128Types: boolean;
  /** Function bodies decoded. */
  functions: number;
}

/** One function body: its SIMD use and the functions it calls directly (`call`, `return_call`), by function index. */
export interface FunctionCode {
  ops: Map<number, number>;
  /** A v128 local, block type or `select` type in the body. */
  v128: boolean;
  calls: Set<number>;
}

/** What the reader keeps of a module: its function bodies with their calls, and its function exports. */
export interface WasmCode {
  /** Imported functions come first in the function index space. */
  importedFunctions: number;
  /** The module's own functions in order; function index i is `functions[i - importedFunctions]`. */
  functions: FunctionCode[];
  /** Exported functions: name -> function index. */
  exports: Map<string, number>;
  /** v128 outside the code: in a function type, an imported or defined global, or a global's initialiser. */
  v128Outside: SimdUsage;
}

/** Relaxed SIMD's sub-opcodes (0x100..0x113, e.g. f32x4.relaxed_madd = 0x105). */
export const isRelaxedOp = (op: number): boolean => op >= 0x100 && op <= 0x113;

/** The 0xFD sub-opcodes the tests name (numbers from the SIMD and relaxed-SIMD specs). */
export const SIMD_OPS = {
  'v128.load': 0x00, 'f32x4.sqrt': 0xe3, 'f32x4.add': 0xe4, 'f32x4.sub': 0xe5, 'f32x4.mul': 0xe6,
  'f32x4.relaxed_madd': 0x105,
} as const;

const V128 = 0x7b;
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, V128, 0x70, 0x6f]);

/** Decodes every function body of a module (and the sections that name functions), instruction by instruction. */
export function readWasm(bytes: Uint8Array): WasmCode {
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
  const name = () => {
    const n = u32();
    p += n;
    if (p > bytes.length) fail('a name past the end');
  };
  const limits = () => {
    const flags = byte();
    u32();
    if (flags & 1) u32();
  };
  const memarg = () => {
    const align = u32();
    if (align & 0x40) u32(); // multi-memory: a memory index follows
    u32();
  };
  const code: WasmCode = { importedFunctions: 0, functions: [], exports: new Map(), v128Outside: { ops: new Map(), v128Types: false, functions: 0 } };

  /** One instruction of a body (or of a constant expression), recorded into `f`. */
  const instruction = (f: FunctionCode) => {
    const op = byte();
    if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1) return;
    if (op >= 0x45 && op <= 0xc4) return; // numeric instructions take no immediates
    if (op >= 0x02 && op <= 0x04) {
      // block type: empty, one value type, or a type index (s33)
      const b = bytes[p];
      if (b === 0x40 || VALTYPES.has(b!)) {
        if (b === V128) f.v128 = true;
        p++;
      } else skipLeb();
      return;
    }
    if (op === 0x10 || op === 0x12) return void f.calls.add(u32()); // call, return_call
    if (op === 0x0c || op === 0x0d || op === 0xd2 || (op >= 0x20 && op <= 0x26) || op === 0x3f || op === 0x40) return void u32();
    if (op === 0x11 || op === 0x13) return void (u32(), u32());
    if (op === 0x0e) {
      for (let n = u32(); n >= 0; n--) u32(); // the labels and the default
      return;
    }
    if (op === 0x1c) {
      for (let n = u32(); n > 0; n--) if (byte() === V128) f.v128 = true;
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
      f.ops.set(sub, (f.ops.get(sub) ?? 0) + 1);
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
  // v128 outside function bodies is recorded as if in one more body
  const outside: FunctionCode = { ops: code.v128Outside.ops, v128: false, calls: new Set() };
  const valtype = () => {
    if (byte() === V128) outside.v128 = true;
  };

  while (p < bytes.length) {
    const id = byte();
    const size = u32();
    const end = p + size;
    if (id === 1) {
      // function types: 0x60, params, results
      for (let n = u32(); n > 0; n--) {
        if (byte() !== 0x60) fail('function type without 0x60');
        for (let k = 0; k < 2; k++) for (let m = u32(); m > 0; m--) valtype();
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = byte();
        if (kind === 0x00) {
          u32();
          code.importedFunctions++;
        } else if (kind === 0x01) {
          byte();
          limits();
        } else if (kind === 0x02) limits();
        else if (kind === 0x03) {
          valtype();
          byte();
        } else if (kind === 0x04) {
          byte();
          u32();
        } else fail(`unknown import kind ${kind}`);
      }
    } else if (id === 6) {
      // globals: type, mutability, then a constant expression up to its `end`
      for (let n = u32(); n > 0; n--) {
        valtype();
        byte();
        while (bytes[p] !== 0x0b) instruction(outside);
        p++;
      }
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const len = u32();
        const exportName = new TextDecoder().decode(bytes.subarray(p, p + len));
        p += len;
        const kind = byte();
        const index = u32();
        if (kind === 0x00) code.exports.set(exportName, index);
      }
    } else if (id === 10) {
      for (let n = u32(); n > 0; n--) {
        const bodySize = u32();
        const bodyEnd = p + bodySize;
        const f: FunctionCode = { ops: new Map(), v128: false, calls: new Set() };
        for (let groups = u32(); groups > 0; groups--) {
          u32();
          if (byte() === V128) f.v128 = true;
        }
        while (p < bodyEnd) instruction(f);
        if (p !== bodyEnd || bytes[bodyEnd - 1] !== 0x0b) fail('a function body that does not end with `end` where its size says');
        code.functions.push(f);
      }
    }
    if (id !== 0 && p !== end && (id === 1 || id === 2 || id === 6 || id === 7)) fail(`section ${id} does not end where its size says`);
    p = end;
  }
  code.v128Outside.v128Types = outside.v128;
  return code;
}

/** The SIMD use of some function bodies together. */
function merge(functions: readonly FunctionCode[]): SimdUsage {
  const usage: SimdUsage = { ops: new Map(), v128Types: false, functions: functions.length };
  for (const f of functions) {
    for (const [op, n] of f.ops) usage.ops.set(op, (usage.ops.get(op) ?? 0) + n);
    if (f.v128) usage.v128Types = true;
  }
  return usage;
}

/** SIMD use of a whole module: every function body, plus v128 in its types and globals. */
export function simdUsage(bytes: Uint8Array): SimdUsage {
  const code = readWasm(bytes);
  const usage = merge(code.functions);
  for (const [op, n] of code.v128Outside.ops) usage.ops.set(op, (usage.ops.get(op) ?? 0) + n);
  if (code.v128Outside.v128Types) usage.v128Types = true;
  return usage;
}

/** SIMD use of an exported function together with every function it reaches by direct calls. */
export function exportUsage(code: WasmCode, exportName: string): SimdUsage {
  const root = code.exports.get(exportName);
  if (root === undefined) throw new Error(`wasm reader: no exported function ${JSON.stringify(exportName)}`);
  const seen = new Set([root]);
  const queue = [root];
  const bodies: FunctionCode[] = [];
  while (queue.length) {
    const f = code.functions[queue.pop()! - code.importedFunctions];
    if (!f) continue; // an imported function: no body here
    bodies.push(f);
    for (const c of f.calls) if (!seen.has(c)) seen.add(c), queue.push(c);
  }
  return merge(bodies);
}
