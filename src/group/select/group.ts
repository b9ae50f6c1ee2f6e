import type { Metadata } from '../../core/metadata.js';
import type { Outbound } from '../../core/outbound.js';
import { GroupBase } from '../common/base.js';
import type { GroupDefinition, SelectableGroup } from '../registry.js';

/**
 * mihomo's `select` group (API type Selector): the user's choice among its members, kept in the
 * process's SelectionStore (so it survives reloads, and restarts with profile.store-selected);
 * the first member until one is chosen. It checks only when given an `interval`.
 */
export class SelectGroup extends GroupBase implements SelectableGroup {
  readonly type = 'Selector';
  readonly selectable = true;

  now(): string {
    const chosen = this.ctx.selections.get(this.name);
    const names = this.members;
    return chosen !== undefined && names.includes(chosen) ? chosen : names[0];
  }

  protected choose(_meta: Metadata | undefined, _touch: boolean): Outbound {
    const name = this.now();
    const o = this.list().find((m) => m.name === name);
    if (!o) throw new Error(`group ${this.name}: member ${name} does not exist`);
    return o;
  }
}

/** `type: select`. */
export const selectDefinition: GroupDefinition = {
  type: 'select',
  create: (spec, ctx) => new SelectGroup(spec, ctx).built(),
};
