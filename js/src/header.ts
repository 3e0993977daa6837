/** The model header: name, facts, source, load state, loading errors, and the gist input box. */

import { append, formatCount, h, replaceChildren } from "./dom";
import type { Header, OutgoingMsg, Source } from "./types";

const STATE_TEXT: Record<string, string> = { empty: "No model", loading: "Loading…", ready: "Ready", error: "Load failed" };

/** Facts line items: parameters, device, task and how the task was decided. */
function facts(header: Header): HTMLElement[] {
  const items: HTMLElement[] = [];
  const item = (label: string, value: string, title?: string) =>
    items.push(h("span", { className: "tbw-fact", title }, h("span", { className: "tbw-fact-label" }, label), value));
  if (header.n_params !== undefined) item("params", formatCount(header.n_params), `${header.n_params ?? "?"} parameters`);
  if (header.device) item("device", `${header.device}${header.dtype ? ` · ${header.dtype}` : ""}`);
  if (header.vocab_size) item("vocab", String(header.vocab_size));
  if (header.max_len) item("max length", String(header.max_len));
  if (header.task) {
    // its own line: the reason ("class name TinyGPT", "config key num_labels") can be long
    const el = h("span", { className: "tbw-fact tbw-wide" }, h("span", { className: "tbw-fact-label" }, "task"), header.task);
    if (header.task_reason) el.append(h("span", { className: "tbw-muted" }, ` — ${header.task_reason}`));
    items.push(el);
  }
  return items;
}

function sourceLine(source: Source | undefined): HTMLElement | null {
  if (!source || !source.kind) return null;
  const parts: (HTMLElement | string)[] = [h("span", { className: "tbw-fact-label" }, "source")];
  if (source.kind === "gist" && source.gist_id) {
    const rev = source.revision ? `@${source.revision.slice(0, 7)}` : "";
    const text = `gist ${source.gist_id}${rev}`;
    parts.push(source.html_url ? h("a", { href: source.html_url, target: "_blank", rel: "noopener" }, text) : text);
    if (source.owner) parts.push(` by ${source.owner}`);
    if (source.from_cache) parts.push(" (from cache)");
  } else {
    parts.push(source.kind === "example" ? "built-in example model" : source.label || source.kind);
  }
  return h("span", { className: "tbw-fact tbw-wide tbw-source" }, ...parts);
}

function problemBox(header: Header): HTMLElement | null {
  const p = header.problem;
  if (header.state !== "error" || !p) return null;
  return h(
    "div",
    { className: "tbw-problem", role: "alert" },
    h("div", { className: "tbw-problem-cause" }, p.cause),
    p.fix ? h("div", { className: "tbw-problem-fix" }, h("strong", {}, "What to do: "), p.fix) : null,
    p.trace ? h("details", {}, h("summary", {}, "Traceback"), h("pre", { className: "tbw-pre" }, p.trace)) : null,
  );
}

/** The header; `update` redraws the facts but keeps the input box (and what the user typed) intact. */
export function createHeader(send: (msg: OutgoingMsg) => void, initialInput: string) {
  const titleSlot = h("div", { className: "tbw-title-line" });
  const info = h("div", { className: "tbw-header-info" });
  const input = h("input", {
    className: "tbw-input",
    type: "text",
    placeholder: "Gist id or URL (empty: built-in example)",
    "aria-label": "Gist id or URL",
    spellcheck: "false",
  }) as HTMLInputElement;
  input.value = initialInput;
  const load = h("button", { className: "tbw-btn", type: "button" }, "Load") as HTMLButtonElement;
  const submit = () => send({ type: "load", source: input.value.trim(), origin: "input" });
  load.addEventListener("click", submit);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") submit();
  });
  const form = h("div", { className: "tbw-source-form" }, input, load);
  const el = h("div", { className: "tbw-header" }, h("div", { className: "tbw-header-top" }, titleSlot, form), info);

  function update(header: Header): void {
    const state = header.state ?? "empty";
    el.dataset.state = state;
    replaceChildren(
      titleSlot,
      h("span", { className: "tbw-title" }, header.name || "Transformer validator"),
      h("span", { className: `tbw-badge tbw-badge-${state}` }, STATE_TEXT[state] ?? state),
    );
    const factLine = h("div", { className: "tbw-facts" });
    append(factLine, [...facts(header), sourceLine(header.source)]);
    replaceChildren(
      info,
      state === "ready" ? factLine : null,
      header.message ? h("div", { className: "tbw-muted" }, header.message) : null,
      state === "loading" ? h("div", { className: "tbw-progress tbw-indeterminate" }, h("div", { className: "tbw-progress-fill" })) : null,
      problemBox(header),
    );
    load.disabled = state === "loading";
  }

  function setInput(value: string): void {
    if (document.activeElement !== input) input.value = value;
  }

  return { el, update, setInput };
}
