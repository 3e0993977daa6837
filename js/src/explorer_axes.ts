/**
 * The parts of the head map drawn around the cells: token labels on both axes (thinned to stay
 * readable at any zoom) and the hovered query's attention row as bars under the key axis, plus a
 * text line naming its five strongest keys.
 */

import { fmt, showToken } from "./explorer_data";

export const SIZE = 480; // map side in CSS pixels
export const LEFT = 88; // room for query labels
export const TOP = 72; // room for rotated key labels
export const STRIP = 84; // height of the attention-row strip under the map
export const GAP = 10;

/** What the axis and strip painters need: the view (x0, y0, k) and the visible cell range. */
export interface Frame {
  ctx: CanvasRenderingContext2D;
  x0: number;
  y0: number;
  k: number; // CSS pixels per token
  c0: number;
  c1: number;
  r0: number;
  r1: number;
  n: number;
  tokens: string[];
  hoverQ: number | null;
  hoverK: number | null;
  linked: number | null;
  weight: (q: number, k: number) => number | null; // null where masked
}

const HOT = "#c2410c";

export function drawAxes(f: Frame): void {
  const { ctx, x0, y0, k, c0, c1, r0, r1, tokens } = f;
  const step = Math.max(1, Math.ceil(12 / k)); // at least 12 px between labels
  ctx.font = `${Math.max(8, Math.min(11, k - 1))}px sans-serif`;
  const label = (i: number) => (step === 1 ? showToken(tokens[i] ?? "") : `${i} ${showToken(tokens[i] ?? "", 6)}`);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let i = Math.ceil(r0 / step) * step; i < r1; i += step) {
    if (i + 0.5 < y0 || i + 0.5 > y0 + SIZE / k) continue; // centre outside the map: no label
    ctx.fillStyle = i === f.hoverQ || i === f.linked ? HOT : "#333";
    ctx.fillText(label(i), LEFT - 4, TOP + (i - y0 + 0.5) * k, LEFT - 6);
  }
  ctx.textAlign = "left";
  for (let j = Math.ceil(c0 / step) * step; j < c1; j += step) {
    if (j + 0.5 < x0 || j + 0.5 > x0 + SIZE / k) continue;
    ctx.save();
    ctx.translate(LEFT + (j - x0 + 0.5) * k, TOP - 4);
    ctx.rotate(-Math.PI / 3);
    ctx.fillStyle = j === f.hoverK || j === f.linked ? HOT : "#333";
    ctx.fillText(label(j), 0, 0, TOP);
    ctx.restore();
  }
}

/** Bars of the hovered (or linked) query's row under the key axis; returns the text line for it. */
export function drawStrip(f: Frame): string {
  const { ctx, x0, k, c0, c1 } = f;
  const top = TOP + SIZE + GAP;
  ctx.fillStyle = "#f6f7f9";
  ctx.fillRect(LEFT, top, SIZE, STRIP);
  const q = f.hoverQ ?? f.linked;
  ctx.textAlign = "left";
  ctx.fillStyle = "#555";
  ctx.font = "11px sans-serif";
  if (q === null) {
    ctx.fillText("Hover a query row (or a token below) to see where it attends.", LEFT + 6, top + STRIP / 2);
    return "";
  }
  let peak = 0;
  for (let j = c0; j < c1; j++) peak = Math.max(peak, f.weight(q, j) ?? 0);
  ctx.save();
  ctx.beginPath();
  ctx.rect(LEFT, top, SIZE, STRIP);
  ctx.clip(); // partly visible cells at the edges must not spill outside the strip
  ctx.fillStyle = HOT;
  for (let j = c0; j < c1; j++) {
    const w = f.weight(q, j);
    if (w === null || peak === 0) continue;
    const h = (w / peak) * (STRIP - 14);
    ctx.fillRect(LEFT + (j - x0) * k, top + STRIP - h, Math.max(k - (k > 3 ? 1 : 0), 1), h);
  }
  ctx.restore();
  ctx.fillStyle = "#555";
  ctx.fillText(`row ${q} · max ${fmt(peak)}`, LEFT + 4, top + 11);
  return describe(f, q);
}

/** The query and its five strongest keys with weights (also read by screen readers and tests). */
function describe(f: Frame, q: number): string {
  const name = (i: number) => `“${showToken(f.tokens[i] ?? "")}”`;
  const ranked: [number, number][] = [];
  for (let j = 0; j < f.n; j++) {
    const w = f.weight(q, j);
    if (w !== null) ranked.push([w, j]);
  }
  ranked.sort((a, b) => b[0] - a[0]);
  const best = ranked.slice(0, 5).map(([w, j]) => `${j} ${name(j)} ${fmt(w)}`);
  const key = f.hoverK;
  const cell = key === null ? "" : ` · key ${key} ${name(key)}: ${f.weight(q, key) === null ? "masked" : fmt(f.weight(q, key))}`;
  return `query ${q} ${name(q)} → ${best.join(", ")}${cell}`;
}
