import type { Logger } from '../common/log.js';
import type { Component } from '../core/component.js';
import type { Outbound, ProxyGroup } from '../core/outbound.js';
import type { ProxyProvider } from '../core/provider.js';
import type { SelectionStore } from './selection-store.js';

/** Finds an outbound by name; groups resolve members lazily so they may reference each other. */
export type OutboundLookup = (name: string) => Outbound | undefined;

/** A validated `proxy-groups` entry as a group type receives it. */
export interface GroupSpec {
  readonly name: string;
  readonly type: string;
  /** member names in order (proxies, groups, built-ins) */
  readonly proxies: readonly string[];
  /** proxy-providers whose proxies follow `proxies` (GroupContext.providers) */
  readonly use?: readonly string[];
}

/** What building a group may use: handed in by the generation, never imported as globals. */
export interface GroupContext {
  /** every outbound of the generation being built (members may be defined later) */
  readonly lookup: OutboundLookup;
  /** the process's select choices, which outlive generations */
  readonly selections: SelectionStore;
  /** the generation's proxy-providers by name (groups' `use:`) */
  readonly providers: ReadonlyMap<string, ProxyProvider>;
  readonly log: Logger;
}

/** A built group and the components (health checks…) the generation starts and closes for it. */
export interface BuiltGroup {
  readonly group: ProxyGroup;
  readonly components?: readonly Component[];
}

/** One group type: its YAML `type` and how to build it. */
export interface GroupDefinition {
  /** the YAML `type`: select, url-test… */
  readonly type: string;
  create(spec: GroupSpec, ctx: GroupContext): BuiltGroup;
}

/** A group whose member can be chosen by the user (the control plane's `select`). */
export interface SelectableGroup extends ProxyGroup {
  readonly selectable: true;
}

/** Narrows a group to one that takes a user's choice. */
export function isSelectable(o: Outbound): o is SelectableGroup {
  return (o as Partial<SelectableGroup>).selectable === true;
}

/** The table from YAML `type` to group type. Adding a group type = one line in group/index.ts. */
export class GroupRegistry {
  readonly #defs = new Map<string, GroupDefinition>();

  register(def: GroupDefinition): this {
    if (this.#defs.has(def.type)) throw new Error(`group type ${def.type} registered twice`);
    this.#defs.set(def.type, def);
    return this;
  }

  get(type: string): GroupDefinition | undefined {
    return this.#defs.get(type);
  }

  types(): string[] {
    return [...this.#defs.keys()];
  }
}
