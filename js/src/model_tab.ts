/** The Model tab: how the model was built, missing packages, the loader's findings, config and code. */

import { formatValue, h } from "./dom";
import { highlightPython } from "./highlight";
import type { Header, ModelInfo } from "./types";

function section(title: string, ...body: (HTMLElement | null)[]): HTMLElement {
  return h("section", { className: "tbw-section" }, h("h4", {}, title), ...body);
}

function findingsList(info: ModelInfo): HTMLElement {
  const findings = info.findings ?? [];
  if (!findings.length) return h("p", { className: "tbw-muted" }, "The loader noticed nothing unusual.");
  return h(
    "ul",
    { className: "tbw-findings" },
    findings.map((f) =>
      h(
        "li",
        { className: `tbw-finding tbw-finding-${f.level}` },
        h("span", { className: "tbw-level" }, f.level),
        h("span", {}, f.message),
        f.fix ? h("div", { className: "tbw-fix" }, h("strong", {}, "What to do: "), f.fix) : null,
      ),
    ),
  );
}

function dependencies(info: ModelInfo): HTMLElement {
  const missing = info.missing_packages ?? [];
  if (!missing.length) return h("p", { className: "tbw-muted" }, "Every package model.py imports is installed.");
  return h(
    "div",
    { className: "tbw-deps" },
    h("p", {}, `Not installed: ${missing.map((m) => `${m.module} (pip package ${m.package})`).join(", ")}.`),
    h("p", {}, "Run this in a new cell, then restart the runtime (installing into a running kernel can corrupt numpy):"),
    h("pre", { className: "tbw-pre" }, info.install_line ?? ""),
  );
}

function configTable(config: Record<string, unknown>): HTMLElement {
  const keys = Object.keys(config);
  if (!keys.length) return h("p", { className: "tbw-muted" }, "No config: sizes come from the model itself.");
  return h(
    "table",
    { className: "tbw-table tbw-kv" },
    h("tbody", {}, keys.map((k) => h("tr", {}, h("th", {}, k), h("td", {}, formatValue(config[k]))))),
  );
}

export function renderModelTab(header: Header, info: ModelInfo): HTMLElement {
  if (header.state !== "ready") {
    const text = header.state === "loading" ? "Loading the model…" : "No model is loaded yet: enter a gist id above.";
    return h("div", { className: "tbw-panel-body" }, h("p", { className: "tbw-muted" }, text));
  }
  return h(
    "div",
    { className: "tbw-panel-body" },
    info.build_note ? h("p", {}, h("strong", {}, "Built as: "), info.build_note) : null,
    header.task_reason ? h("p", {}, h("strong", {}, `Task ${header.task}: `), header.task_reason) : null,
    section("Findings", findingsList(info)),
    section("Dependencies", dependencies(info)),
    section("Config (normalised)", configTable(info.config ?? {})),
    info.code ? section("model.py", highlightPython(info.code)) : section("Code", h("p", { className: "tbw-muted" }, "No model.py: the model was given as a Python object.")),
  );
}

/** The Tier 3 panel: the Train view itself is composed below the shell (ipywidgets + bqplot). */
export function renderTier3(): HTMLElement {
  return h(
    "div",
    { className: "tbw-panel-body tbw-tier3" },
    h("h4", {}, "Tier 3 — training"),
    h("p", {}, "Train the loaded model below: pick the data and settings, press Train, and watch loss, accuracy, learning rate and gradient norm per optimizer step. Stop writes a checkpoint that Resume continues from."),
    h("p", { className: "tbw-muted" }, "Below the Train section: Search (Optuna trials with pruning, live) and Benchmarks (GLUE tasks and held-out LM beside a majority and a same-budget baseline)."),
  );
}
