import type { DelayRecord } from '../core/control-plane.js';

/** How many results each proxy keeps, as mihomo's API shows them. */
export const HISTORY_LENGTH = 10;

/**
 * The delay tests of every proxy by name: the last ten results, oldest first (0 = failed). It
 * belongs to the host, so a proxy that survives a reload keeps its history.
 */
export class DelayHistory {
  readonly #byName = new Map<string, DelayRecord[]>();

  record(name: string, delay: number, time = Date.now()): void {
    let list = this.#byName.get(name);
    if (!list) {
      list = [];
      this.#byName.set(name, list);
    }
    list.push({ time, delay });
    if (list.length > HISTORY_LENGTH) list.splice(0, list.length - HISTORY_LENGTH);
  }

  /** the results of `name`, oldest first */
  of(name: string): readonly DelayRecord[] {
    return this.#byName.get(name) ?? [];
  }

  /** the last result of `name`: its delay in ms, 0 when it failed or never ran */
  last(name: string): number {
    const list = this.#byName.get(name);
    return list && list.length > 0 ? list[list.length - 1].delay : 0;
  }

  /** Drops the history of names `keep` refuses (proxies gone after a reload). */
  prune(keep: (name: string) => boolean): void {
    for (const name of [...this.#byName.keys()]) if (!keep(name)) this.#byName.delete(name);
  }
}
