/**
 * One attention head at full resolution on a canvas: tokens on both axes, zoom (wheel, keys) and pan
 * (drag) for long inputs, the causal region hatched as masked (not drawn as zeros), and the hovered
 * query's attention row drawn as bars over the key-token strip below the map.
 */

import { GAP, LEFT, SIZE, STRIP, TOP, type Frame, drawAxes, drawStrip } from "./explorer_axes";
import { SEQUENTIAL } from "./explorer_data";

export interface MapData {
  values: Uint8Array; // (T, T) row-major, weight = value · rowScale[row]
  rowScale: Float32Array; // (T,)
  n: number;
  headMax: number; // colour scale top in "head" mode (causal row 0, always 1.0, left out)
  causal: boolean;
}

/** "row": each query row against its own largest weight (readable at any length); "head": absolute. */
export type ColourMode = "row" | "head";

const MAX_CELL = 48; // largest zoom: 48 px per token

/** The sequential scale as packed RGBA (ImageData is little-endian RGBA on every browser we target). */
const LUT32 = (() => {
  const lut = new Uint32Array(256);
  for (let v = 0; v < 256; v++) {
    const [r, g, b] = [SEQUENTIAL[v * 3], SEQUENTIAL[v * 3 + 1], SEQUENTIAL[v * 3 + 2]];
    lut[v] = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
  }
  return lut;
})();

export class HeadMap {
  readonly canvas: HTMLCanvasElement;
  onHover: (query: number | null) => void = () => {};
  private ctx: CanvasRenderingContext2D;
  private data: MapData | null = null;
  private image: HTMLCanvasElement | null = null;
  private tokens: string[] = [];
  private view = { x0: 0, y0: 0, k: 1 };
  private hover: { q: number; k: number | null } | null = null;
  private linked: number | null = null;
  private drag: { x: number; y: number; x0: number; y0: number; moved: boolean } | null = null;
  private hatch: CanvasPattern | null = null;
  private dpr = 1;
  private mode: ColourMode = "row";

  constructor(private readonly info: HTMLElement) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "tbw-x-map";
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("Canvas 2D is not available in this browser.");
    this.ctx = ctx;
    this.resize();
    this.listen();
  }

  get width(): number {
    return LEFT + SIZE + GAP;
  }

  get height(): number {
    return TOP + SIZE + GAP + STRIP + 16;
  }

  setTokens(tokens: string[]): void {
    this.tokens = tokens;
  }

  get colourMode(): ColourMode {
    return this.mode;
  }

  setColourMode(mode: ColourMode): void {
    this.mode = mode;
    if (this.data) this.setData(this.data);
  }

  /** Show a head: builds a T×T image once; masked cells stay transparent over the hatch. */
  setData(data: MapData): void {
    const keep = this.data !== null && this.data.n === data.n;
    if (!keep) this.mode = data.n > 256 ? "row" : "head"; // long rows fade to nothing on one shared scale
    this.data = data;
    const n = data.n;
    const absolute = this.mode === "head";
    const img = document.createElement("canvas");
    img.width = n;
    img.height = n;
    const ictx = img.getContext("2d")!;
    const pixels = ictx.createImageData(n, n);
    const px = new Uint32Array(pixels.data.buffer); // one RGBA store per cell: ~1M cells at 1024 tokens
    const vals = data.values;
    const remap = new Uint8Array(256);
    for (let i = 0; i < n; i++) {
      const limit = data.causal ? i + 1 : n; // keys after the query are masked in causal maps
      const row = i * n;
      if (!absolute) {
        for (let j = 0; j < limit; j++) px[row + j] = LUT32[vals[row + j]];
        continue; // masked cells keep alpha 0: the hatch below shows through
      }
      const f = (data.rowScale[i] * 255) / (data.headMax || 1);
      for (let v = 0; v < 256; v++) remap[v] = Math.min(255, Math.round(v * f));
      for (let j = 0; j < limit; j++) px[row + j] = LUT32[remap[vals[row + j]]];
    }
    ictx.putImageData(pixels, 0, 0);
    this.image = img;
    if (!keep) this.fit();
    this.draw();
  }

  /** Highlight a token from a linked view (row and column), or clear with null. */
  setLinked(index: number | null): void {
    this.linked = index;
    this.canvas.dataset.linked = index === null ? "" : String(index); // for tests and styling
    this.draw();
  }

  fit(): void {
    const n = this.data?.n ?? 1;
    this.view = { x0: 0, y0: 0, k: SIZE / n };
    this.draw();
  }

  zoom(factor: number, cx = SIZE / 2, cy = SIZE / 2): void {
    const n = this.data?.n ?? 1;
    const { x0, y0, k } = this.view;
    const k2 = Math.max(SIZE / n, Math.min(MAX_CELL, k * factor));
    const ax = x0 + cx / k; // the cell under the cursor stays put
    const ay = y0 + cy / k;
    this.view = { k: k2, x0: ax - cx / k2, y0: ay - cy / k2 };
    this.clamp();
    this.draw();
  }

  private clamp(): void {
    const n = this.data?.n ?? 1;
    const span = SIZE / this.view.k;
    const max = Math.max(0, n - span);
    this.view.x0 = Math.max(0, Math.min(max, this.view.x0));
    this.view.y0 = Math.max(0, Math.min(max, this.view.y0));
  }

  private resize(): void {
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.width * this.dpr);
    this.canvas.height = Math.round(this.height * this.dpr);
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    const tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    const t = tile.getContext("2d")!;
    t.fillStyle = "#eceff3";
    t.fillRect(0, 0, 8, 8);
    t.strokeStyle = "#b8bec8";
    t.beginPath();
    t.moveTo(0, 8);
    t.lineTo(8, 0);
    t.stroke();
    this.hatch = this.ctx.createPattern(tile, "repeat");
  }

  /** Cell (query row, key column) under a point in CSS pixels, or null outside the data. */
  private cellAt(x: number, y: number): { q: number; k: number | null } | null {
    const n = this.data?.n ?? 0;
    const { x0, y0, k } = this.view;
    const q = Math.floor(y0 + (y - TOP) / k);
    if (y < TOP || y >= TOP + SIZE || q < 0 || q >= n) return null;
    if (x < LEFT) return { q, k: null }; // on the query labels: the whole row
    const key = Math.floor(x0 + (x - LEFT) / k);
    return key >= 0 && key < n && x < LEFT + SIZE ? { q, k: key } : null;
  }

  private listen(): void {
    const c = this.canvas;
    const pos = (e: MouseEvent) => {
      const r = c.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    c.addEventListener(
      "wheel",
      (e) => {
        const p = pos(e);
        if (!this.data || p.x < LEFT || p.y < TOP) return;
        e.preventDefault();
        this.zoom(Math.pow(1.2, -e.deltaY / 100), p.x - LEFT, p.y - TOP);
      },
      { passive: false },
    );
    c.addEventListener("mousedown", (e) => {
      const p = pos(e);
      this.drag = { x: p.x, y: p.y, x0: this.view.x0, y0: this.view.y0, moved: false };
    });
    window.addEventListener("mouseup", () => (this.drag = null));
    c.addEventListener("mousemove", (e) => {
      const p = pos(e);
      if (this.drag && (e.buttons & 1) === 1) {
        const dx = p.x - this.drag.x;
        const dy = p.y - this.drag.y;
        this.drag.moved ||= Math.abs(dx) + Math.abs(dy) > 3;
        this.view.x0 = this.drag.x0 - dx / this.view.k;
        this.view.y0 = this.drag.y0 - dy / this.view.k;
        this.clamp();
        this.draw();
        return;
      }
      this.setHover(this.cellAt(p.x, p.y));
    });
    c.addEventListener("mouseleave", () => this.setHover(null));
    c.addEventListener("dblclick", () => this.fit());
  }

  private setHover(cell: { q: number; k: number | null } | null): void {
    const same = cell?.q === this.hover?.q && cell?.k === this.hover?.k;
    if (same) return;
    const changedRow = cell?.q !== this.hover?.q;
    this.hover = cell;
    this.draw();
    if (changedRow) this.onHover(cell ? cell.q : null);
  }

  /** One query's attention over all keys (masked keys 0), or null when no head is shown. */
  row(q: number): Float32Array | null {
    const d = this.data;
    if (!d || q < 0 || q >= d.n) return null;
    const out = new Float32Array(d.n);
    const end = d.causal ? q + 1 : d.n;
    for (let j = 0; j < end; j++) out[j] = d.values[q * d.n + j] * d.rowScale[q];
    return out;
  }

  /** Weight of one cell, or null where masked. */
  weight(q: number, k: number): number | null {
    const d = this.data;
    if (!d || (d.causal && k > q)) return null;
    return d.values[q * d.n + k] * d.rowScale[q];
  }

  draw(): void {
    const ctx = this.ctx;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const d = this.data;
    if (!d || !this.image) {
      ctx.fillStyle = "#666";
      ctx.font = "13px sans-serif";
      ctx.fillText("Click a head in the grid to see its full map.", LEFT, TOP + 20);
      return;
    }
    const { x0, y0, k } = this.view;
    const c0 = Math.floor(x0);
    const r0 = Math.floor(y0);
    const c1 = Math.min(d.n, Math.ceil(x0 + SIZE / k));
    const r1 = Math.min(d.n, Math.ceil(y0 + SIZE / k));
    ctx.save();
    ctx.beginPath();
    ctx.rect(LEFT, TOP, SIZE, SIZE);
    ctx.clip();
    const sx = LEFT + (c0 - x0) * k;
    const sy = TOP + (r0 - y0) * k;
    ctx.fillStyle = this.hatch ?? "#eee";
    ctx.fillRect(sx, sy, (c1 - c0) * k, (r1 - r0) * k);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, c0, r0, c1 - c0, r1 - r0, sx, sy, (c1 - c0) * k, (r1 - r0) * k);
    this.drawMarks(ctx, x0, y0, k);
    ctx.restore();
    ctx.strokeStyle = "#888";
    ctx.strokeRect(LEFT - 0.5, TOP - 0.5, SIZE + 1, SIZE + 1);
    const frame: Frame = {
      ctx, ...this.view, c0, c1, r0, r1, n: d.n, tokens: this.tokens,
      hoverQ: this.hover?.q ?? null, hoverK: this.hover?.k ?? null, linked: this.linked,
      weight: (q, k) => this.weight(q, k),
    };
    drawAxes(frame);
    this.info.textContent = drawStrip(frame);
  }

  private drawMarks(ctx: CanvasRenderingContext2D, x0: number, y0: number, k: number): void {
    const band = (index: number, color: string) => {
      ctx.fillStyle = color;
      const w = Math.max(k, 2);
      ctx.fillRect(LEFT, TOP + (index - y0) * k - (w - k) / 2, SIZE, w); // its row (as query)
      ctx.fillRect(LEFT + (index - x0) * k - (w - k) / 2, TOP, w, SIZE); // its column (as key)
    };
    if (this.linked !== null) band(this.linked, "rgba(230, 120, 0, 0.28)");
    if (this.hover) {
      ctx.strokeStyle = "rgba(220, 60, 0, 0.9)";
      ctx.lineWidth = 1.5;
      ctx.strokeRect(LEFT, TOP + (this.hover.q - y0) * k, SIZE, Math.max(k, 1.5));
    }
  }
}
