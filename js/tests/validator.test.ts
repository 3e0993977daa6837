import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formatDuration, formatValue } from "../src/dom";
import { tokenize } from "../src/highlight";
import widget, { gistIdFromUrl, tabBadge } from "../src/validator";
import type { Row, TierView } from "../src/types";
import { FakeModel } from "./fake_model";

const row = (id: string, status: Row["status"], extra: Partial<Row> = {}): Row => ({
  id,
  title: id.toUpperCase(),
  status,
  progress: status === "running" ? 0.5 : 1,
  note: "",
  duration_s: 0.25,
  summary: `${id} summary`,
  ...extra,
});

const ready = { state: "ready" as const, name: "TinyGPT", n_params: 141056, device: "cpu", task: "causal-lm", task_reason: "class name" };

function mount(model: FakeModel): { el: HTMLElement; cleanup: () => void } {
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  return { el, cleanup };
}

describe("highlight", () => {
  it("marks keywords, strings, comments, numbers and defined names", () => {
    const kinds = tokenize('def f(x):  # hi\n    return "s" + 1\nclass Net:').filter((t) => t.kind !== "plain");
    expect(kinds.map((t) => `${t.kind}:${t.text}`)).toEqual([
      "keyword:def",
      "def:f",
      "comment:# hi",
      "keyword:return",
      'string:"s"',
      "number:1",
      "keyword:class",
      "def:Net",
    ]);
  });

  it("keeps every character of the source", () => {
    const code = "x = f'{a}' # c\n@dec\ndef g(): pass";
    expect(tokenize(code).map((t) => t.text).join("")).toBe(code);
  });
});

describe("helpers", () => {
  it("reads gist_id from the query or hash, rejecting odd text", () => {
    expect(gistIdFromUrl("http://h/lab?gist_id=abc123")).toBe("abc123");
    expect(gistIdFromUrl("http://h/x#gist_id=def")).toBe("def");
    expect(gistIdFromUrl("http://h/x?gist_id=<script>")).toBeNull();
    expect(gistIdFromUrl("http://h/x")).toBeNull();
  });

  it("formats durations and values", () => {
    expect(formatDuration(0.0123)).toBe("12 ms");
    expect(formatDuration(2.54)).toBe("2.5 s");
    expect(formatValue(0.5)).toBe("0.5");
    expect(formatValue(1e-6)).toBe("1.000e-6");
    expect(formatValue(null)).toBe("—");
  });

  it("badges a tab by its worst outcome", () => {
    const view = (counts: Record<string, number>, state: TierView["state"] = "done"): TierView => ({ state, counts, rows: [row("a", "pass")] });
    expect(tabBadge(view({ pass: 3 }))?.textContent).toBe("pass");
    expect(tabBadge(view({ pass: 1, warn: 2 }))?.textContent).toBe("2 warn");
    expect(tabBadge(view({ fail: 1, warn: 2 }))?.textContent).toBe("1 fail");
    expect(tabBadge(view({}, "running"))?.textContent).toBe("running");
    expect(tabBadge(view({}, "idle"))).toBeNull();
  });
});

describe("render", () => {
  let model: FakeModel;
  beforeEach(() => {
    model = new FakeModel({
      header: ready,
      tier1: { label: "Tier 1", state: "running", run_id: "r1", progress: 0.5, rows: [row("a", "pass"), row("b", "running", { note: "step 2" })] },
      results1: { run_id: "r1", results: { a: { details: "Why it matters.", metrics: { loss: 1.5 }, table: [{ k: 1 }], table_total: 1, error: null } } },
      tier2: { label: "Tier 2", state: "idle", rows: [], message: "No checks are registered for this tier yet." },
    });
  });
  afterEach(() => {
    document.body.innerHTML = "";
  });

  it("draws the header, tabs and one row per check", () => {
    const { el } = mount(model);
    expect(el.querySelector(".tbw-title")?.textContent).toBe("TinyGPT");
    expect(el.querySelector(".tbw-facts")?.textContent).toContain("141.1k");
    expect(el.querySelector(".tbw-facts")?.textContent).toContain("— class name");
    expect([...el.querySelectorAll(".tbw-tab")].map((t) => t.getAttribute("data-tab"))).toEqual(["model", "tier1", "tier2", "tier3"]);
    const rows = el.querySelectorAll(".tbw-row");
    expect([...rows].map((r) => r.getAttribute("data-status"))).toEqual(["pass", "running"]);
    expect(rows[1].textContent).toContain("step 2");
    expect((el.querySelector(".tbw-progress-fill") as HTMLElement).style.width).toBe("50%");
  });

  it("sends run and stop messages; Run is disabled while busy", () => {
    const { el } = mount(model);
    expect((el.querySelector(".tbw-run") as HTMLButtonElement).disabled).toBe(true);
    (el.querySelector(".tbw-stop") as HTMLButtonElement).click();
    model.push("tier1", { ...model.get("tier1"), state: "done", rows: [row("a", "pass"), row("b", "warn")] });
    (el.querySelector(".tbw-run") as HTMLButtonElement).click();
    (el.querySelector(".tbw-run-all") as HTMLButtonElement).click();
    expect(model.sent).toEqual([{ type: "stop" }, { type: "run", tier: "tier1" }, { type: "run", tier: "all" }]);
  });

  it("expands a row to its details and keeps it open across updates", () => {
    const { el } = mount(model);
    (el.querySelector('.tbw-row[data-id="a"] .tbw-row-head') as HTMLButtonElement).click();
    let body = el.querySelector('.tbw-row[data-id="a"] .tbw-row-body');
    expect(body?.textContent).toContain("Why it matters.");
    expect(body?.querySelector(".tbw-metrics")?.textContent).toContain("loss");
    model.push("tier1", { ...model.get("tier1"), progress: 0.9 });
    body = el.querySelector('.tbw-row[data-id="a"] .tbw-row-body');
    expect(body?.querySelector("table")).not.toBeNull();
  });

  it("switches tabs through the synced active_tab and shows the empty tier message", () => {
    const { el } = mount(model);
    (el.querySelector('.tbw-tab[data-tab="tier2"]') as HTMLButtonElement).click();
    expect(model.get("active_tab")).toBe("tier2");
    expect(model.saved).toBe(1);
    expect(el.querySelector(".tbw-message")?.textContent).toContain("No checks are registered");
    (el.querySelector('.tbw-tab[data-tab="tier3"]') as HTMLButtonElement).click();
    expect(el.querySelector(".tbw-tier3")?.textContent).toContain("Train the loaded model below");
    expect(el.querySelector(".tbw-tier3")?.textContent).toContain("Search (Optuna trials with pruning, live) and Benchmarks");
    expect(el.querySelectorAll(".tbw-tier3 button").length).toBe(0); // no fake controls
  });

  it("shows a load error with cause and fix, and the input sends a load request", () => {
    model.push("header", { state: "error", message: "Loading failed.", problem: { cause: "Gist not found.", fix: "Check the id.", trace: "" } });
    const { el } = mount(model);
    expect(el.querySelector(".tbw-problem-cause")?.textContent).toBe("Gist not found.");
    expect(el.querySelector(".tbw-problem-fix")?.textContent).toContain("Check the id.");
    const input = el.querySelector(".tbw-input") as HTMLInputElement;
    input.value = " abc ";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(model.sent).toEqual([{ type: "load", source: "abc", origin: "input" }]);
  });

  it("draws the Model tab with highlighted code, config and findings", () => {
    model.push("model_info", { code: "class M:\n    pass", config: { d_model: 64 }, findings: [{ level: "warn", message: "vocab mismatch", fix: "fix it" }], missing_packages: [], build_note: "M()" });
    model.push("active_tab", "model");
    const { el } = mount(model);
    expect(el.querySelector(".tbw-tok-keyword")?.textContent).toBe("class");
    expect(el.querySelector(".tbw-kv")?.textContent).toContain("d_model");
    expect(el.querySelector(".tbw-finding-warn")?.textContent).toContain("fix it");
  });

  it("turns a download message into a file download and unsubscribes on cleanup", () => {
    const created = vi.fn(() => "blob:x");
    URL.createObjectURL = created;
    URL.revokeObjectURL = vi.fn();
    const clicks: string[] = [];
    HTMLAnchorElement.prototype.click = function () {
      clicks.push(this.getAttribute("download") ?? "");
    };
    const { el, cleanup } = mount(model);
    (el.querySelector('.tbw-export[data-format="html"]') as HTMLButtonElement).click();
    expect(model.sent).toEqual([{ type: "export", format: "html" }]);
    model.emit("msg:custom", { type: "download", filename: "r.html", mime: "text/html", text: "<html></html>" });
    expect(clicks).toEqual(["r.html"]);
    expect(el.querySelector(".tbw-notice")?.textContent).toContain("r.html");
    cleanup();
    expect(model.listeners("change:tier1")).toBe(0);
  });

  it("never parses model text as HTML", () => {
    model.push("tier1", { state: "done", run_id: "r1", rows: [row("x", "fail", { summary: "<img src=x onerror=alert(1)>" })] });
    const { el } = mount(model);
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain("<img src=x");
  });
});
