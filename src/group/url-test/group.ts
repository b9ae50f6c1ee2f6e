import { z } from 'zod';
import { countLike } from '../../config/values.js';
import type { Metadata } from '../../core/metadata.js';
import type { Outbound } from '../../core/outbound.js';
import { GroupBase } from '../common/base.js';
import type { GroupContext, GroupDefinition, GroupDetails, GroupSpec, SelectableGroup } from '../registry.js';

/**
 * mihomo's `url-test` (API type URLTest): the member with the lowest delay in the group's
 * health check, kept until another is faster by more than `tolerance` ms or it dies. Before any
 * result, the first member. A member chosen by the user (mihomo's "fixed") is used while it is
 * alive; while it is dead the fastest is used, and the choice stays (it applies again once the
 * member passes a check) until DELETE /proxies/:name clears it, as mihomo.
 */
export class UrlTestGroup extends GroupBase implements SelectableGroup {
  readonly type = 'URLTest';
  readonly selectable = true;
  readonly fixable = true;
  readonly tolerance: number;
  #fast: string | undefined;

  constructor(spec: GroupSpec, ctx: GroupContext) {
    super(spec, ctx);
    this.tolerance = Number(spec.options?.tolerance ?? 0);
  }

  now(): string {
    return this.choose(undefined, false).name;
  }

  override details(): GroupDetails {
    return { ...super.details(), testUrl: this.health.settings.url, expectedStatus: this.expectedStatus, fixed: this.ctx.selections.get(this.name) ?? '' };
  }

  protected override checked(): void {
    this.#pickFastest();
  }

  protected choose(_meta: Metadata | undefined, _touch: boolean): Outbound {
    const list = this.list();
    const fixed = this.ctx.selections.get(this.name);
    if (fixed !== undefined && this.health.alive(fixed)) {
      const o = list.find((m) => m.name === fixed);
      if (o) return o;
    }
    const name = this.#fast !== undefined && list.some((m) => m.name === this.#fast) ? this.#fast : this.#pickFastest();
    return list.find((m) => m.name === name) ?? list[0];
  }

  /** mihomo's choice: the fastest alive member; the current one stays unless dead or beaten by more than tolerance. */
  #pickFastest(): string {
    const list = this.list();
    const h = this.health;
    let fast = list[0];
    let min = h.delay(fast.name);
    for (const o of list.slice(1)) {
      if (!h.alive(o.name)) continue;
      const d = h.delay(o.name);
      if (d < min) {
        fast = o;
        min = d;
      }
    }
    const cur = this.#fast;
    const present = cur !== undefined && list.some((m) => m.name === cur);
    if (!present || !h.alive(cur) || h.delay(cur) > min + this.tolerance) this.#fast = fast.name;
    return this.#fast!;
  }
}

const urlTestSchema = z.looseObject({ tolerance: countLike.optional() });

/** `type: url-test`, with `tolerance` (ms). */
export const urlTestDefinition: GroupDefinition = {
  type: 'url-test',
  schema: urlTestSchema,
  keys: ['tolerance'],
  create: (spec, ctx) => new UrlTestGroup(spec, ctx).built(),
};
