/**
 * Typed mirror of the synced traits of `tbwidgets.widgets.explorer.AttentionExplorer` and of its
 * custom messages. Keep in step with the trait docstrings there; Python writes every trait.
 */

/** An array sent as a binary buffer: DataView (ipywidgets 7/8), ArrayBuffer or bytes, with dtype and shape. */
export interface ArrayPayload {
  buffer: DataView | ArrayBuffer | Uint8Array;
  dtype: "uint8" | "float32" | "float16";
  shape: number[];
}

export interface Overview {
  n_layers: number;
  n_heads: number;
  length: number;
  layer_names: string[];
  causal: boolean[];
  thumbs: ArrayPayload; // uint8 (L, H + 1, S, S); index H is the head average
  visible: ArrayPayload; // uint8 (L, S, S): visible fraction × 255
  stats: ArrayPayload & { names: string[] }; // float32 (L, H, K)
  classes: string[][];
}

export interface AttributionState {
  state?: "none" | "running" | "done" | "error";
  message?: string;
  scores?: ArrayPayload; // float32 (T,)
  position?: number;
  target?: number | null;
  target_token?: string;
  delta?: number | null;
  relative_delta?: number | null; // |delta| / |f(x) − f(baseline)|
  n_steps?: number | null;
  progress?: number;
  started?: number;
  notes?: string[];
}

export interface CurvePanel {
  title: string;
  x_label: string;
  x: ArrayPayload;
  series: { name: string; y: ArrayPayload }[];
}

export interface ExplorerModel {
  tokens: string[];
  overview: Overview;
  attribution: AttributionState;
  curves: { panels?: CurvePanel[] };
  notes: string[];
}

/** Python's answer to `{type: "head", layer, head, seq}`; one uint8 buffer (T, T) comes with it. */
export interface HeadReply {
  type: "head";
  seq: number;
  layer: number;
  head: number;
  average: boolean;
  dtype: "uint8";
  shape: [number, number];
  row_scale: { dtype: "float32"; shape: [number]; buffer: number }; // weight = value · row_scale[row]
  max_weight: number;
  max_weight_after_first: number; // row 0 of a causal map is always 1.0
  mask: "causal" | "none";
}

export interface ErrorReply {
  type: "error";
  seq: number | null;
  message: string;
}

export type OutgoingMsg =
  | { type: "head"; layer: number; head: number; seq: number }
  | { type: "attribute"; position: number; target: number | null };

export interface AnyModel<T> {
  get<K extends keyof T>(key: K): T[K];
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string, callback?: (...args: any[]) => void): void;
  send(content: unknown): void;
}
