import type { z } from 'zod';
import type { Logger } from '../common/log.js';
import type { GroupTypeSchema } from '../config/proxy-group.js';
import type { DelayHistory } from '../health/history.js';
import type { ProbeQueue } from './common/queue.js';
import type { Component } from '../core/component.js';
import type { Outbound, ProxyGroup } from '../core/outbound.js';
import type { ProxyProvider } from '../core/provider.js';
import type { SelectionStore } from './selection-store.js';

/** Finds an outbound by name; groups resolve members lazily so they may reference each other. */
export type OutboundLookup = (name: string) => Outbound | undefined;

/** A validated `proxy-groups` entry as a group type receives it (config/proxy-group.ts); absent keys take mihomo's defaults. */
export interface GroupSpec {
  readonly name: string;
  readonly type: string;
  /** member names in order (proxies, groups, built-ins; include-all already expanded) */
  readonly proxies: readonly string[];
  /** proxy-providers whose proxies are members too (after `proxies`) */
  readonly use?: readonly string[];
  readonly url?: string;
  /** seconds between health checks */
  readonly interval?: number;
  /** ms per URL test */
  readonly timeout?: number;
  readonly lazy?: boolean;
  readonly maxFailedTimes?: number;
  readonly disableUdp?: boolean;
  readonly filter?: string;
  readonly excludeFilter?: string;
  readonly excludeType?: string;
  readonly expectedStatus?: string;
  readonly hidden?: boolean;
  readonly icon?: string;
  /** the output of the type's own schema (GroupDefinition.schema) */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** What health checks of a generation share: the host's history, the probe settings, one queue. */
export interface HealthEnv {
  /** the host's DelayHistory: checks record there, so the API's history shows them */
  readonly delays: DelayHistory;
  /** `unified-delay` */
  readonly unified: boolean;
  /** extra trust anchors for https test URLs */
  readonly ca?: string | Buffer;
  /** every URL test of the generation's checks runs through it (a bounded number at once) */
  readonly queue: ProbeQueue;
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
  /** what health checks need (absent: groups built without checks, e.g. in unit tests) */
  readonly health?: HealthEnv;
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
  /** the type's own keys, validated by the config loader with everything else */
  readonly schema?: z.ZodType<Record<string, unknown>>;
  /** the keys `schema` reads */
  readonly keys?: readonly string[];
  create(spec: GroupSpec, ctx: GroupContext): BuiltGroup;
}

/** A group whose member can be chosen by the user (the control plane's `select`). */
export interface SelectableGroup extends ProxyGroup {
  readonly selectable: true;
  /**
   * url-test and fallback (mihomo's SelectAble groups other than Selector): the choice is a
   * member "fixed" while it is alive, and DELETE /proxies/:name clears it.
   */
  readonly fixable?: boolean;
  /** Told after the user chose `member` (fallback tests a member not alive at once, as mihomo). */
  chosen?(member: string): Promise<void>;
}

/** What the API shows of a group beside its members (mihomo's MarshalJSON of each type). */
export interface GroupDetails {
  readonly hidden: boolean;
  readonly icon: string;
  /** absent for types whose JSON has no `now` (load-balance, relay) */
  readonly now?: string;
  readonly testUrl?: string;
  readonly expectedStatus?: string;
  readonly fixed?: string;
}

/** The API details of a group built here (undefined for other outbounds). */
export function groupDetails(o: Outbound): GroupDetails | undefined {
  const f = (o as Partial<{ details(): GroupDetails }>).details;
  return typeof f === 'function' ? f.call(o) : undefined;
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

  /** The types with their own keys' schemas, as the config loader takes them. */
  schemas(): GroupTypeSchema[] {
    return [...this.#defs.values()].map((d) => ({ type: d.type, schema: d.schema, keys: d.keys }));
  }
}
