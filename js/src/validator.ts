/**
 * Front end of `ValidatorWidget` (tbwidgets/widgets/validator.py): header, own tab strip, tier panels,
 * exports. Draws everything itself — Colab's widget manager breaks ipywidgets Tab/Accordion/Output.
 * Uses only anywidget's `render({ model, el })`, `model.on("change:…")` and custom messages, which work
 * with ipywidgets 7 (Colab) and 8.
 */

import "./validator.css";
import { h, replaceChildren } from "./dom";
import { createHeader } from "./header";
import { renderModelTab, renderTier3 } from "./model_tab";
import { renderTier } from "./tiers";
import type { DownloadMsg, OutgoingMsg, TabKey, TierView, ValidatorModel, WidgetModel } from "./types";

type Model = WidgetModel<ValidatorModel>;

const TABS: { key: TabKey; label: string }[] = [
  { key: "model", label: "Model" },
  { key: "tier1", label: "Tier 1" },
  { key: "tier2", label: "Tier 2" },
  { key: "tier3", label: "Tier 3" },
];

// Models whose page-URL gist id we already sent: one try per model, not one per view.
const urlTried = new WeakSet<object>();

/**
 * Best effort: a `gist_id` query or hash parameter of the page URL. JupyterLab and VS Code expose it;
 * Colab renders outputs in a sandboxed iframe that hides the page URL, so there it finds nothing.
 */
export function gistIdFromUrl(href: string): string | null {
  try {
    const url = new URL(href);
    const hash = new URLSearchParams(url.hash.replace(/^#/, ""));
    const id = url.searchParams.get("gist_id") ?? hash.get("gist_id");
    return id && /^[\w./:-]{1,200}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** A small pill after a tier's tab label: running, problems, warnings, or all passed. */
export function tabBadge(view: TierView | undefined): HTMLElement | null {
  const c = view?.counts ?? {};
  const bad = (c.fail ?? 0) + (c.error ?? 0);
  const pill = (cls: string, text: string) => h("span", { className: `tbw-pill tbw-pill-${cls}` }, text);
  if (view?.state === "running" || view?.state === "stopping") return pill("running", "running");
  if (bad) return pill("fail", `${bad} ${c.error && !c.fail ? "error" : "fail"}`);
  if (c.warn) return pill("warn", `${c.warn} warn`);
  if (view?.state === "stopped") return pill("stopped", "stopped");
  if (view?.state === "done" && (view.rows?.length ?? 0) > 0) return pill("pass", "pass");
  return null;
}

export function download(msg: DownloadMsg): void {
  const blob = new Blob([msg.text], { type: msg.mime });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: msg.filename, style: "display:none" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function render({ model, el }: { model: Model; el: HTMLElement }): () => void {
  const send = (msg: OutgoingMsg) => model.send(msg);
  const expanded = { tier1: new Set<string>(), tier2: new Set<string>() };
  const header = createHeader(send, model.get("gist_input") ?? "");
  const tabs = h("div", { className: "tbw-tabs", role: "tablist" });
  const panel = h("div", { className: "tbw-panel", role: "tabpanel" });
  const notice = h("span", { className: "tbw-notice", role: "status" });
  const exportBtn = (format: "html" | "json", text: string) => {
    const b = h("button", { className: "tbw-btn tbw-export", type: "button", "data-format": format }, text);
    b.addEventListener("click", () => send({ type: "export", format }));
    return b;
  };
  const footer = h("div", { className: "tbw-footer" }, exportBtn("html", "Export HTML"), exportBtn("json", "Export JSON"), notice);
  const root = h("div", { className: "tbw" }, header.el, tabs, panel, footer);
  el.append(root);

  let active: TabKey = model.get("active_tab") || "tier1";

  function drawTabs(): void {
    replaceChildren(
      tabs,
      TABS.map(({ key, label }) => {
        const badge = key === "tier1" || key === "tier2" ? tabBadge(model.get(key)) : null;
        const b = h("button", { className: "tbw-tab", role: "tab", type: "button", "data-tab": key, "aria-selected": key === active ? "true" : "false" }, label, badge);
        b.addEventListener("click", () => selectTab(key));
        return b;
      }),
    );
  }

  function drawPanel(): void {
    const head = model.get("header") ?? {};
    if (active === "model") replaceChildren(panel, renderModelTab(head, model.get("model_info") ?? {}));
    else if (active === "tier3") replaceChildren(panel, renderTier3());
    else {
      const results = model.get(active === "tier1" ? "results1" : "results2") ?? {};
      const anyBusy = (["tier1", "tier2"] as const).some((k) => ["running", "stopping"].includes(model.get(k)?.state ?? ""));
      replaceChildren(panel, renderTier({ key: active, view: model.get(active) ?? {}, results, expanded: expanded[active], modelReady: head.state === "ready", anyBusy, send, rerender: drawPanel }));
    }
  }

  function selectTab(key: TabKey): void {
    active = key;
    model.set("active_tab", key);
    model.save_changes();
    drawTabs();
    drawPanel();
  }

  function showNotice(): void {
    const n = model.get("notice") ?? {};
    notice.textContent = n.text ?? "";
    notice.className = `tbw-notice tbw-notice-${n.level ?? "info"}`;
  }

  const onHeader = () => {
    const head = model.get("header") ?? {};
    if (head.state === "loading") notice.textContent = ""; // "Saved …" belonged to the previous model
    header.update(head);
    drawPanel();
  };
  const onTier = () => {
    drawTabs();
    drawPanel();
  };
  const onInput = () => header.setInput(model.get("gist_input") ?? "");
  const onMsg = (msg: unknown) => {
    if (msg && typeof msg === "object" && (msg as DownloadMsg).type === "download") {
      download(msg as DownloadMsg);
      notice.textContent = `Saved ${(msg as DownloadMsg).filename}`;
      notice.className = "tbw-notice tbw-notice-info";
    }
  };
  const subscriptions: [string, (...args: any[]) => void][] = [
    ["change:header", onHeader],
    ["change:model_info", drawPanel],
    ["change:tier1", onTier],
    ["change:tier2", onTier],
    ["change:results1", drawPanel],
    ["change:results2", drawPanel],
    ["change:gist_input", onInput],
    ["change:notice", showNotice],
    ["msg:custom", onMsg],
  ];
  for (const [event, cb] of subscriptions) model.on(event, cb);

  header.update(model.get("header") ?? {});
  drawTabs();
  drawPanel();
  showNotice();

  const fromUrl = gistIdFromUrl(window.location.href);
  if (fromUrl && !model.get("gist_input") && !urlTried.has(model)) {
    urlTried.add(model);
    send({ type: "load", source: fromUrl, origin: "url" });
  }
  return () => {
    for (const [event, cb] of subscriptions) model.off(event, cb);
  };
}

export default { render };
