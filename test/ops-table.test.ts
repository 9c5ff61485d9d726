/**
 * The OPS table. At run time: each entry's op carries its key as its name. At compile time
 * (`npm run typecheck`, which also fails on an unused `@ts-expect-error`): attributes are checked
 * per op, and a missing, extra or mistyped entry does not compile.
 */
import { describe, expect, it } from 'vitest';
import { apply, defineOp, type OpSpec } from '../src/autograd/op.js';
import { OPS, type OpAttrs, type OpName } from '../src/ops/table.js';
import type { Tensor } from '../src/tensor/tensor.js';

describe('OPS', () => {
  it('names every op by its key', () => {
    for (const name of Object.keys(OPS) as OpName[]) expect(OPS[name].name).toBe(name);
  });
});

/** Compile-time cases only: never called. */
export function typeCases(x: Tensor): unknown[] {
  const identity = (name: string) => ({
    name,
    forward: (_ctx: unknown, [t]: readonly Tensor[]) => t,
    backward: (_ctx: unknown, dy: Tensor) => [dy],
  });
  const onlyAxes = defineOp<{ axes: number[] }>(identity('sum'));
  const extraField = defineOp<{ axes: number[]; keepdim: boolean; scale: number }>(identity('sum'));
  const { gaussianSample: _dropped, ...withoutOne } = OPS;

  return [
    // Applying a table entry checks its attributes.
    apply(OPS.sum, [x], { axes: [0], keepdim: true }),
    // @ts-expect-error axes is number[], not number
    apply(OPS.sum, [x], { axes: 0, keepdim: true }),
    // @ts-expect-error keepdim is missing
    apply(OPS.sum, [x], { axes: [0] }),
    // @ts-expect-error 'add' is a binary op, not a unary one
    apply(OPS.unary, [x], { op: 'add' }),
    // @ts-expect-error softmax takes no attributes
    apply(OPS.softmax, [x], { axis: -1 }),

    // A spec fits an entry only if it takes exactly the declared attributes.
    ((): OpSpec<OpAttrs['sum']> => OPS.max)(),
    // @ts-expect-error a field missing (keepdim)
    ((): OpSpec<OpAttrs['sum']> => onlyAxes)(),
    // @ts-expect-error a field added (scale)
    ((): OpSpec<OpAttrs['sum']> => extraField)(),
    // @ts-expect-error another op's attributes (softmax has none)
    ((): OpSpec<OpAttrs['sum']> => OPS.softmax)(),

    // The table itself: complete, nothing extra, each entry of its own attribute type.
    ((): typeof OPS => ({ ...OPS }))(),
    // @ts-expect-error gaussianSample is missing
    ((): typeof OPS => withoutOne)(),
    // @ts-expect-error sum's entry takes { axes, keepdim }, matmul's { transA, transB }
    ((): typeof OPS => ({ ...OPS, sum: OPS.matmul }))(),
    // @ts-expect-error fusedAdamW is not an op name in OpAttrs
    ((): typeof OPS => ({ ...OPS, fusedAdamW: OPS.sum }))(),
  ];
}
