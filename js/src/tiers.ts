/** A tier tab: Run / Stop / Run all, an overall progress bar and one expandable row per check. */

import { formatDuration, formatValue, h } from "./dom";
import type { OutgoingMsg, ResultDetails, Row, RowStatus, TierResults, TierView } from "./types";

export const STATUS_ICON: Record<RowStatus, string> = {
  pass: "✓",
  warn: "!",
  fail: "✗",
  error: "⚠",
  skipped: "–",
  pending: "·",
  running: "◌",
  "not-run": "○",
};

const STATE_TEXT: Record<string, string> = {
  idle: "Not run yet",
  running: "Running…",
  stopping: "Stopping…",
  done: "Done",
  stopped: "Stopped",
  error: "Error",
};

function summaryText(view: TierView): string {
  const rows = view.rows ?? [];
  const finished = rows.filter((r) => !["pending", "running", "not-run"].includes(r.status)).length;
  const counts = Object.entries(view.counts ?? {})
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(" · ");
  const state = STATE_TEXT[view.state ?? "idle"] ?? view.state ?? "";
  if (view.state === "done" || view.state === "stopped") return counts ? `${state}: ${counts}` : state;
  if (view.state === "running" || view.state === "stopping") return `${state} ${finished}/${rows.length} checks`;
  return `${state} · ${rows.length} check${rows.length === 1 ? "" : "s"}`;
}

function metricsGrid(metrics: ResultDetails["metrics"]): HTMLElement | null {
  const keys = Object.keys(metrics);
  if (!keys.length) return null;
  // divs, not <dl>: notebook front ends style dl/dt/dd globally
  return h(
    "div",
    { className: "tbw-metrics" },
    keys.map((k) => h("div", { className: "tbw-metric", title: k }, h("span", { className: "tbw-metric-key" }, k), h("span", { className: "tbw-metric-value" }, formatValue(metrics[k])))),
  );
}

function resultTable(d: ResultDetails): HTMLElement | null {
  const rows = d.table ?? [];
  if (!rows.length) return null;
  const cols = Array.from(new Set(rows.flatMap((r) => Object.keys(r))));
  const more = d.table_total > rows.length ? h("p", { className: "tbw-muted" }, `First ${rows.length} of ${d.table_total} rows; the JSON export has all.`) : null;
  return h(
    "div",
    { className: "tbw-table-wrap" },
    h("table", { className: "tbw-table" }, h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))), h("tbody", {}, rows.map((r) => h("tr", {}, cols.map((c) => h("td", {}, formatValue(r[c]))))))),
    more,
  );
}

export function detailsBody(d: ResultDetails | undefined, row: Row): HTMLElement {
  if (!d) {
    const text = row.status === "not-run" || row.status === "pending" ? "Not run yet." : "Running… details appear when the check finishes.";
    return h("div", { className: "tbw-row-body tbw-muted" }, text);
  }
  const paragraphs = (d.details || "").split(/\n{2,}/).filter(Boolean);
  return h(
    "div",
    { className: "tbw-row-body" },
    // the row head clips long summaries to one line; repeat them in full here
    row.summary.length > 80 ? h("p", { className: "tbw-row-verdict" }, row.summary) : null,
    paragraphs.map((p) => h("p", {}, p)),
    metricsGrid(d.metrics),
    resultTable(d),
    d.error ? h("details", {}, h("summary", {}, "Traceback"), h("pre", { className: "tbw-pre" }, d.error)) : null,
  );
}

function rowEl(row: Row, open: boolean, d: ResultDetails | undefined, toggle: (id: string) => void): HTMLElement {
  const running = row.status === "running";
  const head = h(
    "button",
    { className: "tbw-row-head", type: "button", "aria-expanded": open ? "true" : "false" },
    h("span", { className: `tbw-icon tbw-st-${row.status}`, title: row.status }, STATUS_ICON[row.status] ?? "?"),
    h("span", { className: "tbw-row-title", title: row.title }, row.title),
    h("span", { className: "tbw-mini" }, h("span", { className: "tbw-mini-fill", style: `width:${Math.round(row.progress * 100)}%` })),
    h("span", { className: "tbw-duration" }, row.status === "skipped" && (row.duration_s ?? 0) < 0.0005 ? "" : formatDuration(row.duration_s)),
    h("span", { className: "tbw-row-summary", title: running ? undefined : row.summary }, running ? row.note || "running…" : row.summary),
    h("span", { className: "tbw-chevron" }, open ? "▾" : "▸"),
  );
  head.addEventListener("click", () => toggle(row.id));
  return h("div", { className: "tbw-row", "data-status": row.status, "data-id": row.id }, head, open ? detailsBody(d, row) : null);
}

export interface TierPanelOptions {
  key: "tier1" | "tier2";
  view: TierView;
  results: TierResults;
  expanded: Set<string>;
  modelReady: boolean;
  /** Some tier is running or stopping: Run waits, Stop stops whichever run is going. */
  anyBusy: boolean;
  send: (msg: OutgoingMsg) => void;
  rerender: () => void;
}

export function renderTier(o: TierPanelOptions): HTMLElement {
  const { view, results } = o;
  const busy = o.anyBusy || view.state === "running" || view.state === "stopping";
  const rows = view.rows ?? [];
  const label = view.label ?? o.key;
  const btn = (text: string, cls: string, disabled: boolean, msg: OutgoingMsg) => {
    const b = h("button", { className: `tbw-btn ${cls}`, type: "button", disabled }, text);
    b.addEventListener("click", () => o.send(msg));
    return b;
  };
  const toggle = (id: string) => {
    if (o.expanded.has(id)) o.expanded.delete(id);
    else o.expanded.add(id);
    o.rerender();
  };
  const sameRun = results.run_id === view.run_id;
  return h(
    "div",
    { className: "tbw-panel-body", "data-tier": o.key, "data-state": view.state ?? "idle" },
    h(
      "div",
      { className: "tbw-toolbar" },
      btn(`Run ${label}`, "tbw-primary tbw-run", busy || !o.modelReady || !rows.length, { type: "run", tier: o.key }),
      btn("Stop", "tbw-stop", !busy, { type: "stop" }),
      btn("Run all", "tbw-run-all", busy || !o.modelReady, { type: "run", tier: "all" }),
      h("span", { className: "tbw-status-text" }, summaryText(view)),
    ),
    h("div", { className: "tbw-progress" }, h("div", { className: "tbw-progress-fill", style: `width:${Math.round((view.progress ?? 0) * 100)}%` })),
    view.message ? h("div", { className: "tbw-message" }, view.message) : null,
    h("div", { className: "tbw-rows" }, rows.map((r) => rowEl(r, o.expanded.has(r.id), sameRun ? results.results?.[r.id] : undefined, toggle))),
  );
}
