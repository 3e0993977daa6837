/**
 * Attribution view: tokens coloured by signed Integrated Gradients attribution (diverging scale with
 * a legend), the target position and token chosen here and recomputed in Python's worker thread, the
 * convergence delta shown. Hover is linked with the attention map through `onHover`/`setLinked`.
 */

import { decodeFloat32, divergingCss, fmt, showToken } from "./explorer_data";
import type { AttributionState } from "./explorer_types";

export class AttributionView {
  readonly el: HTMLElement;
  onHover: (index: number | null) => void = () => {};
  onRequest: (position: number, target: number | null) => void = () => {};
  private strip: HTMLElement;
  private head: HTMLElement;
  private legend: HTMLElement;
  private progress: HTMLElement;
  private position: HTMLInputElement;
  private target: HTMLInputElement;
  private spans: HTMLElement[] = [];
  private linked: number | null = null;
  private timer: number | null = null;

  constructor() {
    this.el = document.createElement("div");
    this.el.className = "tbw-x-attr";
    const title = document.createElement("div");
    title.className = "tbw-x-title";
    title.textContent = "Attribution (Integrated Gradients)";
    this.head = document.createElement("div");
    this.head.className = "tbw-x-attr-head";
    this.progress = document.createElement("div");
    this.progress.className = "tbw-x-progress";
    this.legend = document.createElement("div");
    this.legend.className = "tbw-x-legend";
    this.position = this.input("position", "target position (−1 = last)");
    this.target = this.input("target", "target token id (blank = predicted)");
    const run = document.createElement("button");
    run.type = "button";
    run.className = "tbw-x-run";
    run.textContent = "Recompute";
    run.addEventListener("click", () => this.request());
    const controls = document.createElement("div");
    controls.className = "tbw-x-controls";
    controls.append("Position ", this.position, " Target id ", this.target, run, this.progress);
    this.strip = document.createElement("div");
    this.strip.className = "tbw-x-tokens";
    const hint = document.createElement("div");
    hint.className = "tbw-x-hint";
    hint.textContent = "Hover a token to see its attention row in the map; shift-click a token to attribute at that position.";
    this.el.append(title, controls, this.head, this.legend, this.strip, hint);
  }

  private input(name: string, title: string): HTMLInputElement {
    const el = document.createElement("input");
    el.type = "number";
    el.name = name;
    el.title = title;
    el.className = "tbw-x-num";
    el.addEventListener("keydown", (e) => {
      e.stopPropagation(); // arrow keys edit the number here, not the head selection
      if (e.key === "Enter") this.request();
    });
    return el;
  }

  private request(): void {
    const p = this.position.value.trim() === "" ? -1 : Number(this.position.value);
    const t = this.target.value.trim() === "" ? null : Number(this.target.value);
    this.onRequest(Number.isFinite(p) ? p : -1, t !== null && Number.isFinite(t) ? t : null);
  }

  render(state: AttributionState, tokens: string[]): void {
    const s = state.state ?? "none";
    const scores = state.scores ? decodeFloat32(state.scores) : null;
    this.el.dataset.state = s;
    this.showProgress(state);
    if (s === "none" || (!scores && s !== "running")) {
      this.head.textContent = state.message || "No attribution for this input.";
      if (s === "error") this.head.classList.add("tbw-x-error");
    } else {
      this.head.classList.toggle("tbw-x-error", s === "error");
      const pos = state.position ?? tokens.length - 1;
      const where = pos < 0 ? tokens.length + pos : pos;
      const target = state.target_token ? `“${showToken(state.target_token)}”` : "";
      const rel = state.relative_delta;
      const delta = state.delta === null || state.delta === undefined ? "—" : fmt(state.delta);
      const relText = rel === null || rel === undefined ? "" : ` (${fmt(rel * 100, 2)}% of f(x) − f(baseline))`;
      this.head.textContent = s === "error"
        ? `Failed: ${state.message}`
        : `Position ${where} “${showToken(tokens[where] ?? "")}” → target ${target} (id ${state.target ?? "?"}) · convergence delta ${delta}${relText} · ${state.n_steps ?? "?"} steps${state.notes?.length ? " · " + state.notes.join("; ") : ""}`;
      if (this.position.value === "") this.position.value = String(where);
    }
    this.drawTokens(tokens, scores, state.position);
  }

  private showProgress(state: AttributionState): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    if (state.state !== "running") {
      this.progress.textContent = "";
      return;
    }
    const started = Date.now();
    const tick = () => {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const frac = state.progress;
      this.progress.textContent = frac === undefined ? `running… ${secs} s` : `running ${Math.round(frac * 100)}% · ${secs} s`;
      this.progress.style.setProperty("--p", frac === undefined ? "35%" : `${Math.round(frac * 100)}%`);
    };
    tick();
    this.timer = window.setInterval(() => (this.el.isConnected ? tick() : this.stopTimer()), 250);
  }

  private stopTimer(): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
  }

  private drawTokens(tokens: string[], scores: Float32Array | null, position: number | undefined): void {
    const where = position === undefined ? -1 : position < 0 ? tokens.length + position : position;
    // The attributed position's own token usually dwarfs the rest: scale by the others so their
    // signs stay visible (that token saturates), unless it is the only non-zero one.
    let peak = 0;
    let all = 0;
    if (scores) scores.forEach((v, i) => {
      all = Math.max(all, Math.abs(v));
      if (i !== where) peak = Math.max(peak, Math.abs(v));
    });
    const own = peak < all;
    if (peak === 0) peak = all;
    this.legend.textContent = "";
    if (scores) {
      const bar = document.createElement("span");
      bar.className = "tbw-x-legend-bar";
      const note = own ? `; the attributed token (${fmt(all)}) is beyond the scale` : "";
      this.legend.append(`−${fmt(peak)} `, bar, ` +${fmt(peak)}`, `  (blue lowers the target logit, red raises it${note})`);
    }
    this.strip.textContent = "";
    this.spans = tokens.map((tok, i) => {
      const span = document.createElement("span");
      span.className = "tbw-x-tok";
      span.textContent = showToken(tok, 20);
      const v = scores ? scores[i] ?? 0 : 0;
      span.style.background = scores && peak > 0 ? divergingCss(v / peak) : "";
      span.title = `${i} “${tok}”${scores ? ` attribution ${fmt(v)}` : ""}`;
      if (i === where) span.classList.add("tbw-x-target");
      span.addEventListener("mouseenter", () => this.onHover(i));
      span.addEventListener("mouseleave", () => this.onHover(null));
      span.addEventListener("click", (e) => {
        if (!e.shiftKey) return;
        this.position.value = String(i);
        this.request();
      });
      this.strip.append(span);
      return span;
    });
    this.setLinked(this.linked);
  }

  /** Draw one query's attention row over the tokens as underline bars (null clears them). */
  setAttention(weights: Float32Array | null): void {
    let peak = 0;
    if (weights) for (const w of weights) peak = Math.max(peak, w);
    this.spans.forEach((span, i) => {
      const h = weights && peak > 0 ? Math.round((weights[i] / peak) * 6) : 0;
      span.style.boxShadow = h > 0 ? `inset 0 -${h}px 0 rgba(194, 65, 12, 0.85)` : "";
    });
  }

  /** Highlight the token hovered in the map (or clear with null). */
  setLinked(index: number | null): void {
    if (this.linked !== null) this.spans[this.linked]?.classList.remove("tbw-x-hl");
    this.linked = index;
    if (index !== null) this.spans[index]?.classList.add("tbw-x-hl");
  }
}
