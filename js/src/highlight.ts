/** Light Python syntax highlighting of our own (no CDN): keywords, strings, comments, numbers, names. */

import { h } from "./dom";

const KEYWORDS = new Set(
  ("False None True and as assert async await break class continue def del elif else except finally for " +
    "from global if import in is lambda nonlocal not or pass raise return self super try while with yield")
    .split(" "),
);

// Order matters: comments and strings first so keywords inside them stay plain.
const TOKEN = new RegExp(
  [
    "(#[^\\n]*)", // 1 comment
    "((?:[rbuRBUfF]{0,2})(?:\"\"\"[\\s\\S]*?\"\"\"|'''[\\s\\S]*?'''|\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\\\n])*'))", // 2 string
    "(@[A-Za-z_][\\w.]*)", // 3 decorator
    "\\b(\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?)\\b", // 4 number
    "\\b([A-Za-z_]\\w*)\\b", // 5 name
  ].join("|"),
  "g",
);

export interface Token {
  kind: "comment" | "string" | "decorator" | "number" | "keyword" | "def" | "plain";
  text: string;
}

/** Split Python source into tokens; unmatched text (operators, spaces) is "plain". */
export function tokenize(code: string): Token[] {
  const out: Token[] = [];
  let last = 0;
  let afterDef = false;
  for (const m of code.matchAll(TOKEN)) {
    const index = m.index ?? 0;
    if (index > last) out.push({ kind: "plain", text: code.slice(last, index) });
    last = index + m[0].length;
    let kind: Token["kind"] = "plain";
    if (m[1]) kind = "comment";
    else if (m[2]) kind = "string";
    else if (m[3]) kind = "decorator";
    else if (m[4]) kind = "number";
    else if (m[5]) kind = KEYWORDS.has(m[5]) ? "keyword" : afterDef ? "def" : "plain";
    afterDef = m[5] === "def" || m[5] === "class";
    out.push({ kind, text: m[0] });
  }
  if (last < code.length) out.push({ kind: "plain", text: code.slice(last) });
  return out;
}

/** A <pre><code> block with one span per highlighted token. */
export function highlightPython(code: string): HTMLElement {
  const codeEl = h("code", { className: "tbw-code" });
  for (const token of tokenize(code)) {
    codeEl.append(token.kind === "plain" ? document.createTextNode(token.text) : h("span", { className: `tbw-tok-${token.kind}` }, token.text));
  }
  return h("pre", { className: "tbw-pre" }, codeEl);
}
