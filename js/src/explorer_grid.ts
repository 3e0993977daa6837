/**
 * The overview: one row per layer, one thumbnail per head plus the layer's head average, each with
 * its class and normalised entropy. Thumbnails come from one uint8 buffer (L, H + 1, S, S).
 */

import { CLASS_SHORT, SEQUENTIAL, decodeFloat32, decodeUint8, fmt } from "./explorer_data";
import type { Overview } from "./explorer_types";

export type Select = (layer: number, head: number) => void;

/** CSS size of one thumbnail: smaller for wide models so grid and map fit side by side. */
const thumbPx = (heads: number) => (heads > 8 ? 32 : 46);

function thumbnail(thumbs: Uint8Array, visible: Uint8Array, offset: number, vOffset: number, s: number, px: number): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = c.height = s;
  c.style.width = c.style.height = `${px}px`;
  const ctx = c.getContext("2d")!;
  const img = ctx.createImageData(s, s);
  for (let p = 0; p < s * s; p++) {
    const o = p * 4;
    if (visible[vOffset + p] === 0) {
      // fully masked cell: checkered grey, never "zero attention"
      const grey = ((p % s) + Math.floor(p / s)) % 2 ? 226 : 238;
      img.data.set([grey, grey, grey, 255], o);
      continue;
    }
    const v = thumbs[offset + p] * 3;
    img.data.set([SEQUENTIAL[v], SEQUENTIAL[v + 1], SEQUENTIAL[v + 2], 255], o);
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

export class HeadGrid {
  readonly el: HTMLElement;
  private cells = new Map<string, HTMLElement>();

  constructor(private readonly onSelect: Select) {
    this.el = document.createElement("div");
    this.el.className = "tbw-x-grid";
  }

  render(ov: Overview): void {
    this.el.textContent = "";
    this.cells.clear();
    const [L, H1, S] = ov.thumbs.shape;
    const thumbs = decodeUint8(ov.thumbs);
    const visible = decodeUint8(ov.visible);
    const stats = decodeFloat32(ov.stats);
    const K = ov.stats.shape[2] ?? 0;
    const names = ov.stats.names;
    const ent = names.indexOf("entropy");
    const table = document.createElement("table");
    const head = table.insertRow();
    head.insertCell().textContent = "";
    for (let h = 0; h < H1; h++) {
      const th = document.createElement("th");
      th.textContent = h === H1 - 1 ? "avg" : `H${h}`;
      head.append(th);
    }
    for (let l = 0; l < L; l++) {
      const row = table.insertRow();
      const name = row.insertCell();
      name.className = "tbw-x-layer";
      name.textContent = `L${l}`;
      name.title = ov.layer_names[l] ?? "";
      for (let h = 0; h < H1; h++) {
        const avg = h === H1 - 1;
        const td = row.insertCell();
        const cell = document.createElement("button");
        cell.type = "button";
        cell.className = avg ? "tbw-x-cell tbw-x-avg" : "tbw-x-cell";
        cell.dataset.layer = String(l);
        cell.dataset.head = String(h);
        cell.append(thumbnail(thumbs, visible, (l * H1 + h) * S * S, l * S * S, S, thumbPx(H1 - 1)));
        const cap = document.createElement("span");
        cap.className = "tbw-x-cap";
        if (avg) {
          cap.textContent = "mean";
          cell.title = `Layer ${l}: average of its ${H1 - 1} heads`;
        } else {
          const cls = ov.classes[l]?.[h] ?? "";
          const e = ent >= 0 ? stats[(l * (H1 - 1) + h) * K + ent] : NaN;
          cap.textContent = `${CLASS_SHORT[cls] ?? cls} ${fmt(e, 2).replace(/^0\./, ".")}`;
          cell.dataset.cls = cls;
          cell.title = this.tooltip(l, h, cls, names, stats.subarray((l * (H1 - 1) + h) * K, (l * (H1 - 1) + h + 1) * K));
        }
        cell.append(cap);
        cell.addEventListener("click", () => this.onSelect(l, h));
        td.append(cell);
        this.cells.set(`${l}:${h}`, cell);
      }
    }
    this.el.append(table);
  }

  private tooltip(l: number, h: number, cls: string, names: string[], values: Float32Array): string {
    const lines = names.map((n, i) => `${n}: ${fmt(values[i])}`);
    return [`Layer ${l}, head ${h} — ${cls}`, ...lines].join("\n");
  }

  mark(layer: number, head: number): void {
    for (const cell of this.cells.values()) cell.classList.remove("tbw-x-selected");
    const cell = this.cells.get(`${layer}:${head}`);
    cell?.classList.add("tbw-x-selected");
    cell?.scrollIntoView?.({ block: "nearest", inline: "nearest" });
  }
}
