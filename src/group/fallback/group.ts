import type { Metadata } from '../../core/metadata.js';
import type { Outbound } from '../../core/outbound.js';
import { GroupBase } from '../common/base.js';
import type { GroupDefinition, SelectableGroup } from '../registry.js';

/**
 * mihomo's `fallback` (API type Fallback): the first member, in order, that passed its last
 * health check (untested counts as alive); none alive: the first. A member chosen by the user
 * is used while alive; once it fails a check the choice is dropped, as mihomo does.
 */
export class FallbackGroup extends GroupBase implements SelectableGroup {
  readonly type = 'Fallback';
  readonly selectable = true;

  now(): string {
    return this.choose(undefined, false).name;
  }

  protected choose(_meta: Metadata | undefined, _touch: boolean): Outbound {
    const list = this.list();
    const chosen = this.ctx.selections.get(this.name);
    if (chosen !== undefined) {
      const o = list.find((m) => m.name === chosen);
      if (o && this.health.alive(o.name)) return o;
      if (o) this.ctx.selections.delete(this.name);
    }
    return list.find((m) => this.health.alive(m.name)) ?? list[0];
  }
}

/** `type: fallback`. */
export const fallbackDefinition: GroupDefinition = {
  type: 'fallback',
  create: (spec, ctx) => new FallbackGroup(spec, ctx).built(),
};
