import type { Metadata } from '../../core/metadata.js';
import type { Outbound } from '../../core/outbound.js';
import { GroupBase } from '../common/base.js';
import type { GroupDefinition, GroupDetails, SelectableGroup } from '../registry.js';

/**
 * mihomo's `fallback` (API type Fallback): the first member, in order, that passed its last
 * health check (untested counts as alive); none alive: the first. A member chosen by the user
 * (mihomo's "fixed") is used while alive; once it fails a check the choice is dropped, as
 * mihomo does. Choosing a member not alive tests it at once.
 */
export class FallbackGroup extends GroupBase implements SelectableGroup {
  readonly type = 'Fallback';
  readonly selectable = true;
  readonly fixable = true;

  override details(): GroupDetails {
    const now = this.now(); // first: a dead fixed member is dropped here
    return { ...super.details(), now, testUrl: this.health.settings.url, expectedStatus: this.expectedStatus, fixed: this.ctx.selections.get(this.name) ?? '' };
  }

  async chosen(member: string): Promise<void> {
    const o = this.list().find((m) => m.name === member);
    if (o && !this.health.alive(member)) await this.health.checkOne(o);
  }

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
