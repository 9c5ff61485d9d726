/**
 * The live loss curve: each step's loss as a faint dot and its exponential moving average as a line,
 * on a canvas sized to its box and the screen's pixel ratio (redrawn when the box changes).
 */
export class LossChart {
  private points: { step: number; loss: number }[] = [];
  private total = 1;

  constructor(private readonly canvas: HTMLCanvasElement) {
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  reset(total: number): void {
    this.points = [];
    this.total = Math.max(1, total);
    this.draw();
  }

  add(step: number, loss: number): void {
    this.points.push({ step, loss });
    this.draw();
  }

  private draw(): void {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (w === 0 || h === 0) return;
    if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
      c.width = Math.round(w * ratio);
      c.height = Math.round(h * ratio);
    }
    const g = c.getContext('2d')!;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { l: 44, r: 12, t: 10, b: 24 };
    const finite = this.points.filter((p) => Number.isFinite(p.loss));
    // The range of the losses seen, padded: a fall from 0.70 to 0.64 must be visible.
    const hi = finite.length ? Math.max(...finite.map((p) => p.loss)) : 1;
    const lo = finite.length ? Math.min(...finite.map((p) => p.loss)) : 0;
    const span = Math.max(hi - lo, 0.02 * Math.max(1, hi));
    const bottom = Math.max(0, lo - 0.1 * span);
    const top = hi + 0.1 * span;
    const x = (step: number) => pad.l + ((w - pad.l - pad.r) * step) / this.total;
    const y = (loss: number) => pad.t + (h - pad.t - pad.b) * (1 - (loss - bottom) / (top - bottom));
    // axes and grid
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#6b7585';
    g.strokeStyle = '#eceef2';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const v = bottom + ((top - bottom) * i) / 4;
      g.beginPath();
      g.moveTo(pad.l, y(v));
      g.lineTo(w - pad.r, y(v));
      g.stroke();
      g.textAlign = 'right';
      g.fillText(v.toFixed(top - bottom < 0.2 ? 3 : 2), pad.l - 6, y(v) + 4);
    }
    g.textAlign = 'center';
    for (const s of [0, Math.round(this.total / 2), this.total]) g.fillText(String(s), x(s), h - 6);
    if (!finite.length) {
      g.fillText('the loss of each step appears here while training', w / 2, h / 2);
      return;
    }
    g.fillStyle = 'rgba(47, 111, 237, 0.28)';
    for (const p of finite) {
      g.beginPath();
      g.arc(x(p.step), y(p.loss), 2, 0, 2 * Math.PI);
      g.fill();
    }
    // EMA over steps: the trend through the per-batch noise
    g.strokeStyle = '#2f6fed';
    g.lineWidth = 2;
    g.beginPath();
    let ema = finite[0].loss;
    finite.forEach((p, i) => {
      ema = i === 0 ? p.loss : 0.85 * ema + 0.15 * p.loss;
      if (i === 0) g.moveTo(x(p.step), y(ema));
      else g.lineTo(x(p.step), y(ema));
    });
    g.stroke();
  }
}
