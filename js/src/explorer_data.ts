/** Decoding binary payloads and colour scales shared by the explorer's views. */

import type { ArrayPayload } from "./explorer_types";

/** The bytes of a buffer as ipywidgets 7/8 hand them over (DataView, ArrayBuffer or a typed array). */
export function toBytes(buf: DataView | ArrayBuffer | Uint8Array | ArrayBufferView): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  const view = buf as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function decodeUint8(p: ArrayPayload): Uint8Array {
  return toBytes(p.buffer);
}

/** float32 arrays need 4-byte alignment: copy the bytes first (they are small: scores, curves, stats). */
export function decodeFloat32(p: ArrayPayload): Float32Array {
  const bytes = toBytes(p.buffer);
  return new Float32Array(bytes.slice().buffer);
}

/** Sequential scale for attention (white → deep blue), 256 RGB entries; gamma lifts small weights. */
function buildSequential(): Uint8ClampedArray {
  const stops = [
    [255, 255, 255],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 48, 107],
  ];
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = Math.pow(i / 255, 0.5) * (stops.length - 1);
    const k = Math.min(Math.floor(t), stops.length - 2);
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = stops[k][c] + (stops[k + 1][c] - stops[k][c]) * f;
  }
  return lut;
}

export const SEQUENTIAL = buildSequential();

export function sequentialCss(v: number): string {
  const i = Math.max(0, Math.min(255, Math.round(v))) * 3;
  return `rgb(${SEQUENTIAL[i]},${SEQUENTIAL[i + 1]},${SEQUENTIAL[i + 2]})`;
}

/** Diverging scale for signed attribution: blue (negative) → white (0) → red (positive); t in [-1, 1]. */
export function divergingCss(t: number): string {
  const a = Math.max(-1, Math.min(1, t));
  const neg = [33, 102, 172];
  const pos = [178, 24, 43];
  const end = a < 0 ? neg : pos;
  const f = Math.sqrt(Math.abs(a));
  const mix = (c: number) => Math.round(255 + (end[c] - 255) * f);
  return `rgb(${mix(0)},${mix(1)},${mix(2)})`;
}

/** Token text made visible: spaces and newlines as symbols, long tokens cut. */
export function showToken(tok: string, max = 14): string {
  const t = tok.replace(/\n/g, "⏎").replace(/\t/g, "⇥").replace(/ /g, "·");
  return t.length > max ? `${t.slice(0, max - 1)}…` : t || "∅";
}

export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toFixed(digits);
}

export const CLASS_SHORT: Record<string, string> = {
  "previous-token": "prev",
  "first-token": "sink",
  self: "self",
  local: "local",
  broad: "broad",
};
