import { describe, expect, it, vi } from "vitest";
import { AttributionView } from "../src/attribution_view";
import { renderCurves, tick } from "../src/explorer_curves";
import { decodeFloat32, divergingCss, showToken, toBytes } from "../src/explorer_data";
import type { ArrayPayload } from "../src/explorer_types";

const f32 = (values: number[]): ArrayPayload => {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  // an unaligned DataView, as ipywidgets may hand over a slice of a larger message buffer
  const padded = new Uint8Array(bytes.length + 1);
  padded.set(bytes, 1);
  return { buffer: new DataView(padded.buffer, 1, bytes.length), dtype: "float32", shape: [values.length] };
};

describe("explorer data", () => {
  it("decodes unaligned float32 buffers and raw bytes", () => {
    expect(Array.from(decodeFloat32(f32([0.5, -2, 3])))).toEqual([0.5, -2, 3]);
    expect(Array.from(toBytes(new Uint8Array([1, 2]).buffer))).toEqual([1, 2]);
  });

  it("shows whitespace tokens and uses a diverging scale", () => {
    expect(showToken(" a\n")).toBe("·a⏎");
    expect(divergingCss(0)).toBe("rgb(255,255,255)");
    expect(divergingCss(1)).toBe("rgb(178,24,43)");
    expect(divergingCss(-1)).toBe("rgb(33,102,172)");
  });
});

describe("attribution view", () => {
  it("colours tokens by sign, shows delta and links hover both ways", () => {
    const view = new AttributionView();
    document.body.append(view.el);
    const hovered: (number | null)[] = [];
    view.onHover = (i) => hovered.push(i);
    view.render(
      { state: "done", scores: f32([1, -1, 0]), position: 2, target: 7, target_token: "x", delta: 0.001, n_steps: 50 },
      ["a", "b", "c"],
    );
    const spans = view.el.querySelectorAll<HTMLElement>(".tbw-x-tok");
    expect(spans).toHaveLength(3);
    expect(spans[0].style.background).toBe("rgb(178, 24, 43)");
    expect(spans[1].style.background).toBe("rgb(33, 102, 172)");
    expect(spans[2].classList.contains("tbw-x-target")).toBe(true);
    expect(view.el.textContent).toContain("convergence delta 0.001");
    spans[1].dispatchEvent(new MouseEvent("mouseenter"));
    expect(hovered).toEqual([1]);
    view.setLinked(0);
    expect(spans[0].classList.contains("tbw-x-hl")).toBe(true);
  });

  it("asks Python to recompute for a shift-clicked position", () => {
    const view = new AttributionView();
    const request = vi.fn();
    view.onRequest = request;
    view.render({ state: "done", scores: f32([0, 0]), position: 1, delta: 0, n_steps: 5 }, ["a", "b"]);
    view.el.querySelectorAll<HTMLElement>(".tbw-x-tok")[0].dispatchEvent(new MouseEvent("click", { shiftKey: true }));
    expect(request).toHaveBeenCalledWith(0, null);
  });

  it("shows a running state with elapsed time", () => {
    const view = new AttributionView();
    view.render({ state: "running", position: -1 }, ["a"]);
    expect(view.el.dataset.state).toBe("running");
    expect(view.el.textContent).toContain("running");
  });
});

describe("curves", () => {
  it("draws one svg per panel and hides when there are none", () => {
    const el = document.createElement("div");
    renderCurves(el, [{ title: "noise", x_label: "sigma", x: f32([0, 1]), series: [{ name: "kl", y: f32([0, 2]) }] }]);
    expect(el.querySelectorAll("svg polyline")).toHaveLength(1);
    renderCurves(el, []);
    expect(el.style.display).toBe("none");
  });

  it("labels whole-number axis ends without decimals", () => {
    expect([tick(-63), tick(0), tick(1), tick(0.0132)]).toEqual(["−63", "0", "1", "0.013"]);
    const el = document.createElement("div");
    renderCurves(el, [{ title: "influence", x_label: "offset", x: f32([-63, 63]), series: [{ name: "KL", y: f32([0, 1]) }] }]);
    const labels = [...el.querySelectorAll("text")].map((t) => t.textContent);
    expect(labels).toContain("−63");
    expect(labels).toContain("63");
  });
});
