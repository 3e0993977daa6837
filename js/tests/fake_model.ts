/** A stand-in for anywidget's model: synced values, change events, and a log of sent messages. */

import type { ValidatorModel, WidgetModel } from "../src/types";

export class FakeModel implements WidgetModel<ValidatorModel> {
  sent: unknown[] = [];
  saved = 0;
  private values: ValidatorModel;
  private handlers = new Map<string, Set<(...args: any[]) => void>>();

  constructor(values: Partial<ValidatorModel> = {}) {
    this.values = {
      header: {},
      model_info: {},
      tier1: {},
      tier2: {},
      results1: {},
      results2: {},
      gist_input: "",
      notice: {},
      active_tab: "tier1",
      ...values,
    };
  }

  get<K extends keyof ValidatorModel>(key: K): ValidatorModel[K] {
    return this.values[key];
  }

  set<K extends keyof ValidatorModel>(key: K, value: ValidatorModel[K]): void {
    this.values[key] = value;
    this.emit(`change:${String(key)}`);
  }

  /** What Python does: set a trait and notify the view. */
  push<K extends keyof ValidatorModel>(key: K, value: ValidatorModel[K]): void {
    this.set(key, value);
  }

  save_changes(): void {
    this.saved += 1;
  }

  on(event: string, cb: (...args: any[]) => void): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(cb);
  }

  off(event?: string, cb?: (...args: any[]) => void): void {
    if (event && cb) this.handlers.get(event)?.delete(cb);
  }

  send(content: unknown): void {
    this.sent.push(content);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const cb of this.handlers.get(event) ?? []) cb(...args);
  }

  listeners(event: string): number {
    return this.handlers.get(event)?.size ?? 0;
  }
}
