/** A binary heap ordered by `before(x, y)`: x comes out first when true (min-heap for <, max-heap for >). */
export class Heap<T> {
  private a: T[] = [];
  constructor(private readonly before: (x: T, y: T) => boolean) {}

  get size(): number {
    return this.a.length;
  }

  peek(): T {
    return this.a[0]!;
  }

  push(x: T): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(x, a[parent]!)) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = x;
  }

  pop(): T {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && this.before(a[l + 1]!, a[l]!) ? l + 1 : l;
        if (!this.before(a[c]!, last)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
