/**
 * Typed mirror of the synced traits of `tbwidgets.widgets.validator.ValidatorWidget`.
 * Keep in step with the trait docstrings there: Python writes everything but `active_tab`.
 */

export type LoadState = "empty" | "loading" | "ready" | "error";
export type TierRunState = "idle" | "running" | "stopping" | "done" | "stopped" | "error";
/** Row status: a CheckResult status once finished, else a pre-result state. */
export type RowStatus = "pass" | "warn" | "fail" | "error" | "skipped" | "pending" | "running" | "not-run";
export type TabKey = "model" | "tier1" | "tier2" | "tier3";

export interface Problem {
  cause: string;
  fix: string;
  trace: string;
}

export interface Source {
  kind: string;
  label: string;
  gist_id: string | null;
  revision: string | null;
  owner: string | null;
  html_url: string | null;
  path: string | null;
  from_cache: boolean;
}

export interface Header {
  state?: LoadState;
  message?: string;
  problem?: Problem;
  name?: string;
  n_params?: number | null;
  device?: string;
  dtype?: string;
  vocab_size?: number | null;
  max_len?: number | null;
  task?: string;
  task_reason?: string;
  source?: Source;
  missing_packages?: MissingPackage[];
}

export interface MissingPackage {
  module: string;
  package: string;
}

export interface Finding {
  level: "info" | "warn" | "error" | string;
  message: string;
  fix: string;
}

export interface ModelInfo {
  code?: string;
  config?: Record<string, unknown>;
  findings?: Finding[];
  missing_packages?: MissingPackage[];
  install_line?: string;
  build_note?: string;
}

export interface Row {
  id: string;
  title: string;
  status: RowStatus;
  progress: number;
  note: string;
  duration_s: number | null;
  summary: string;
}

export interface TierView {
  label?: string;
  state?: TierRunState;
  message?: string;
  run_id?: string;
  progress?: number;
  counts?: Record<string, number>;
  rows?: Row[];
}

export interface ResultDetails {
  details: string;
  metrics: Record<string, number | string | boolean | null>;
  table: Record<string, unknown>[] | null;
  table_total: number;
  error: string | null;
}

export interface TierResults {
  run_id?: string;
  results?: Record<string, ResultDetails>;
}

export interface Notice {
  level?: "info" | "error";
  text?: string;
  seq?: number;
}

export interface ValidatorModel {
  header: Header;
  model_info: ModelInfo;
  tier1: TierView;
  tier2: TierView;
  results1: TierResults;
  results2: TierResults;
  gist_input: string;
  notice: Notice;
  active_tab: TabKey;
}

/** Messages the front end sends to Python (`ValidatorWidget._on_front_end_msg`). */
export type OutgoingMsg =
  | { type: "run"; tier: "tier1" | "tier2" | "all" }
  | { type: "stop" }
  | { type: "load"; source: string; origin: "input" | "url" }
  | { type: "export"; format: "html" | "json" };

/** Messages Python sends to the front end. */
export interface DownloadMsg {
  type: "download";
  filename: string;
  mime: string;
  text: string;
}

/** The part of anywidget's model API we use (works with ipywidgets 7 and 8). */
export interface WidgetModel<T> {
  get<K extends keyof T>(key: K): T[K];
  set<K extends keyof T>(key: K, value: T[K]): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string, callback?: (...args: any[]) => void): void;
  send(content: unknown): void;
}
