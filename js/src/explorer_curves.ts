/** Tier 2 perturbation curves as small SVG line charts (one panel per curve family). */

import { decodeFloat32, fmt } from "./explorer_data";
import type { CurvePanel } from "./explorer_types";

const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#2563eb", "#dc2626", "#059669", "#7c3aed", "#d97706"];
const W = 300;
const H = 170;
const PAD = { l: 46, r: 10, t: 22, b: 30 };

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function text(x: number, y: number, s: string, anchor = "start"): SVGElement {
  const t = svg("text", { x, y, "text-anchor": anchor, "font-size": 10, fill: "#444" });
  t.textContent = s;
  return t;
}

function panel(p: CurvePanel): SVGElement {
  const root = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "tbw-x-curve" });
  const x = decodeFloat32(p.x);
  const ys = p.series.map((s) => decodeFloat32(s.y));
  const finite = (a: Float32Array) => Array.from(a).filter(Number.isFinite);
  const xs = finite(x);
  const all = ys.flatMap(finite);
  if (!xs.length || !all.length) return root;
  const [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
  const [ymin, ymax] = [Math.min(0, ...all), Math.max(...all)];
  const sx = (v: number) => PAD.l + ((v - xmin) / (xmax - xmin || 1)) * (W - PAD.l - PAD.r);
  const sy = (v: number) => H - PAD.b - ((v - ymin) / (ymax - ymin || 1)) * (H - PAD.t - PAD.b);
  root.append(svg("rect", { x: PAD.l, y: PAD.t, width: W - PAD.l - PAD.r, height: H - PAD.t - PAD.b, fill: "#fafafa", stroke: "#ccc" }));
  root.append(text(W / 2, 13, p.title, "middle"));
  root.append(text(PAD.l, H - 16, tick(xmin), "middle"), text(W - PAD.r, H - 16, tick(xmax), "end"));
  root.append(text(W / 2, H - 4, p.x_label, "middle"));
  root.append(text(PAD.l - 4, H - PAD.b, tick(ymin), "end"), text(PAD.l - 4, PAD.t + 8, tick(ymax), "end"));
  ys.forEach((y, i) => {
    const pts: string[] = [];
    for (let k = 0; k < Math.min(x.length, y.length); k++) {
      if (Number.isFinite(x[k]) && Number.isFinite(y[k])) pts.push(`${sx(x[k]).toFixed(1)},${sy(y[k]).toFixed(1)}`);
    }
    const color = COLORS[i % COLORS.length];
    root.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: color, "stroke-width": 1.6 }));
    const label = text(W - PAD.r - 6, PAD.t + 12 + i * 12, p.series[i].name, "end");
    label.setAttribute("fill", color);
    root.append(label);
  });
  return root;
}

export function renderCurves(el: HTMLElement, panels: CurvePanel[] | undefined): void {
  el.textContent = "";
  if (!panels?.length) {
    el.style.display = "none";
    return;
  }
  el.style.display = "";
  const title = document.createElement("div");
  title.className = "tbw-x-title";
  title.textContent = "Perturbation sensitivity (Tier 2)";
  el.append(title, ...panels.map(panel));
}

/** Axis ends: whole numbers (token offsets, 0 and 1) without decimals, "−63" rather than "-63.000". */
export function tick(v: number): string {
  return Number.isInteger(v) ? String(v).replace("-", "−") : fmt(v).replace("-", "−");
}
