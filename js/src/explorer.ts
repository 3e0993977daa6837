/**
 * Front end of `AttentionExplorer` (tbwidgets/widgets/explorer.py): the layer × head thumbnail grid,
 * one head at full resolution fetched on demand through a custom message, the attribution view and
 * the perturbation curves, with hover linked between the map and the token strip and keyboard
 * navigation (arrows: head/layer; + − 0: zoom). Works with ipywidgets 7 (Colab) and 8.
 */

import "./explorer.css";
import { AttributionView } from "./attribution_view";
import { decodeFloat32, fmt, toBytes } from "./explorer_data";
import { renderCurves } from "./explorer_curves";
import { HeadGrid } from "./explorer_grid";
import { HeadMap } from "./explorer_map";
import type { AnyModel, ErrorReply, ExplorerModel, HeadReply, OutgoingMsg } from "./explorer_types";

type Model = AnyModel<ExplorerModel>;

const CACHE = 12; // heads kept in the browser (1 MB each at 1024 tokens) so revisits draw at once

interface Cached {
  reply: HeadReply;
  values: Uint8Array;
  rowScale: Float32Array;
}

/** Click-to-drawn times (ms) of every head shown on this page, for the browser test and curious users. */
function recordTiming(ms: number, key: "__tbwExplorerTimings" | "__tbwExplorerFetchMs" = "__tbwExplorerTimings"): void {
  const w = window as unknown as Record<string, number[] | undefined>;
  (w[key] ??= []).push(ms);
}

const METRIC_LABELS: [string, string][] = [
  ["entropy", "entropy"],
  ["sink", "first token"],
  ["previous", "previous"],
  ["self", "self"],
  ["mean_distance", "mean distance"],
];

/** Tier 2's numbers for one head, as a line above its map. */
function headMetrics(ov: ExplorerModel["overview"], layer: number, head: number): string {
  const stats = decodeFloat32(ov.stats);
  const K = ov.stats.shape[2] ?? 0;
  const at = (layer * ov.n_heads + head) * K;
  return METRIC_LABELS.filter(([name]) => ov.stats.names.includes(name))
    .map(([name, label]) => `${label} ${fmt(stats[at + ov.stats.names.indexOf(name)], name === "mean_distance" ? 1 : 2)}`)
    .join(" · ");
}

function render({ model, el }: { model: Model; el: HTMLElement }): () => void {
  const root = document.createElement("div");
  root.className = "tbw-x";
  root.tabIndex = 0;
  const title = document.createElement("div");
  title.className = "tbw-x-top";
  const notes = document.createElement("div");
  notes.className = "tbw-x-notes";
  const info = document.createElement("div");
  info.className = "tbw-x-info";
  const map = new HeadMap(info);
  const grid = new HeadGrid((l, h) => select(l, h));
  const attr = new AttributionView();
  const curves = document.createElement("div");
  curves.className = "tbw-x-curves";
  const tools = document.createElement("div");
  tools.className = "tbw-x-tools";
  const headTitle = document.createElement("span");
  headTitle.className = "tbw-x-head-title";
  const button = (label: string, tip: string, act: () => void) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = tip;
    b.addEventListener("click", act);
    return b;
  };
  const colour = button("colour: per row", "Per row: each query against its own largest weight. Whole head: one scale for all rows.", () => {
    map.setColourMode(map.colourMode === "row" ? "head" : "row");
    colour.textContent = map.colourMode === "row" ? "colour: per row" : "colour: whole head";
    legend();
  });
  colour.className = "tbw-x-colour";
  const scaleNote = document.createElement("span");
  scaleNote.className = "tbw-x-scale";
  let current: HeadReply | null = null;
  const legend = () => {
    const r = current;
    if (!r) return;
    scaleNote.textContent = map.colourMode === "row" ? "white → blue: 0 → row max" : `white → blue: 0 → ${fmt(r.max_weight_after_first)}`;
  };
  tools.append(
    headTitle,
    scaleNote,
    colour,
    button("+", "Zoom in (+)", () => map.zoom(1.6)),
    button("−", "Zoom out (−)", () => map.zoom(1 / 1.6)),
    button("fit", "Whole map (0)", () => map.fit()),
  );
  const metricsLine = document.createElement("div");
  metricsLine.className = "tbw-x-metrics";
  const mapPanel = document.createElement("div");
  mapPanel.className = "tbw-x-mappanel";
  mapPanel.append(tools, metricsLine, map.canvas, info);
  const main = document.createElement("div");
  main.className = "tbw-x-main";
  main.append(grid.el, mapPanel);
  root.append(title, notes, main, attr.el, curves);
  el.append(root);

  let seq = 0;
  let wanted = { layer: 0, head: 0, seq: 0, t0: 0 };
  const cache = new Map<string, Cached>();
  const send = (msg: OutgoingMsg) => model.send(msg);

  function show(c: Cached, t0: number): void {
    const r = c.reply;
    const ov = model.get("overview");
    const what = r.average ? `layer ${r.layer} · head average` : `layer ${r.layer} · head ${r.head} · ${ov.classes[r.layer]?.[r.head] ?? ""}`;
    headTitle.textContent = `${what}${r.mask === "causal" ? " · causal (hatched = masked)" : ""}`;
    metricsLine.textContent = r.average ? "" : headMetrics(ov, r.layer, r.head);
    current = r;
    legend();
    map.setData({ values: c.values, rowScale: c.rowScale, n: r.shape[0], headMax: r.max_weight_after_first, causal: r.mask === "causal" });
    colour.textContent = map.colourMode === "row" ? "colour: per row" : "colour: whole head";
    legend();
    root.dataset.shown = `${r.layer}:${r.head}`;
    requestAnimationFrame(() => {
      const ms = performance.now() - t0;
      root.dataset.drawMs = ms.toFixed(1);
      recordTiming(ms);
    });
  }

  function select(layer: number, head: number): void {
    const ov = model.get("overview");
    layer = Math.max(0, Math.min(ov.n_layers - 1, layer));
    head = Math.max(0, Math.min(ov.n_heads, head)); // n_heads = the layer's average
    const t0 = performance.now();
    grid.mark(layer, head);
    seq += 1;
    wanted = { layer, head, seq, t0 };
    root.dataset.shown = "";
    const hit = cache.get(`${layer}:${head}`);
    if (hit) return show(hit, t0);
    headTitle.textContent = `layer ${layer} · head ${head} · loading…`;
    send({ type: "head", layer, head, seq });
  }

  function onMsg(content: HeadReply | ErrorReply, buffers: (DataView | ArrayBuffer)[]): void {
    if (content.type === "error") {
      headTitle.textContent = `Could not load the head: ${content.message}`;
      return;
    }
    if (content.type !== "head" || !buffers?.length) return;
    const scales = toBytes(buffers[content.row_scale.buffer]);
    const entry = { reply: content, values: toBytes(buffers[0]), rowScale: new Float32Array(scales.slice().buffer) };
    cache.set(`${content.layer}:${content.head}`, entry);
    if (cache.size > CACHE) cache.delete(cache.keys().next().value as string);
    if (content.seq !== wanted.seq) return; // older replies only fill the cache
    recordTiming(performance.now() - wanted.t0, "__tbwExplorerFetchMs"); // request → bytes in the page
    show(entry, wanted.t0);
  }

  function drawTop(): void {
    const ov = model.get("overview");
    const causal = ov.causal?.every(Boolean) ? "causal" : "bidirectional";
    title.textContent = `Attention: ${ov.n_layers} layers × ${ov.n_heads} heads × ${ov.length} tokens (${causal}) · click a head · arrows move · + − 0 zoom`;
    notes.textContent = (model.get("notes") ?? []).join(" · ");
    map.setTokens(model.get("tokens") ?? []);
    grid.render(ov);
  }
  const drawAttr = () => attr.render(model.get("attribution") ?? {}, model.get("tokens") ?? []);
  const drawCurves = () => renderCurves(curves, model.get("curves")?.panels);

  // linked views: a query hovered in either place is marked in both, and its attention row is drawn
  // over the token strip (underline bars) as well as under the map
  const link = (q: number | null) => attr.setAttention(q === null ? null : map.row(q));
  map.onHover = (q) => {
    attr.setLinked(q);
    link(q);
  };
  attr.onHover = (i) => {
    map.setLinked(i);
    link(i);
  };
  attr.onRequest = (position, target) => send({ type: "attribute", position, target });

  root.addEventListener("keydown", (e) => {
    const moves: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (e.key in moves) {
      const [dl, dh] = moves[e.key];
      select(wanted.layer + dl, wanted.head + dh);
    } else if (e.key === "+" || e.key === "=") map.zoom(1.6);
    else if (e.key === "-") map.zoom(1 / 1.6);
    else if (e.key === "0") map.fit();
    else return;
    e.preventDefault();
    e.stopPropagation(); // keep JupyterLab's notebook shortcuts out of it
  });

  const subscriptions: [string, (...args: any[]) => void][] = [
    ["change:overview", () => { cache.clear(); drawTop(); select(wanted.layer, wanted.head); }],
    ["change:tokens", drawTop],
    ["change:notes", drawTop],
    ["change:attribution", drawAttr],
    ["change:curves", drawCurves],
    ["msg:custom", onMsg],
  ];
  for (const [event, cb] of subscriptions) model.on(event, cb);
  drawTop();
  drawAttr();
  drawCurves();
  map.draw();
  select(0, 0);
  return () => {
    for (const [event, cb] of subscriptions) model.off(event, cb);
  };
}

export default { render };
