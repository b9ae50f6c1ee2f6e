import { z } from 'zod';
import type { Metadata } from '../../core/metadata.js';
import type { Outbound } from '../../core/outbound.js';
import { GroupBase } from '../common/base.js';
import type { GroupContext, GroupDefinition, GroupDetails, GroupSpec } from '../registry.js';
import { destinationKey, hash64, jumpHash } from './hash.js';

/** mihomo's strategies, as its config keys them. */
export const STRATEGIES = ['consistent-hashing', 'round-robin', 'sticky-sessions'] as const;
export type Strategy = (typeof STRATEGIES)[number];

const MAX_RETRY = 5;
/** sticky-sessions remembers this many source+destination pairs, each for this long (mihomo's LRU) */
const STICKY_SIZE = 1000;
const STICKY_TTL_MS = 10 * 60_000;

/**
 * mihomo's `load-balance` (API type LoadBalance): each connection to an alive member, by
 * `strategy`: consistent-hashing (default: one site, one member; jump hash over the members,
 * a few retries for a dead one, then the first alive), round-robin (the next alive member),
 * sticky-sessions (one source+destination pair, one member, for ten minutes). None alive: the
 * first member.
 */
export class LoadBalanceGroup extends GroupBase {
  readonly type = 'LoadBalance';
  readonly strategy: Strategy;
  #next = 0;
  readonly #stuck = new Map<bigint, { index: number; at: number }>();

  constructor(spec: GroupSpec, ctx: GroupContext) {
    super(spec, ctx);
    this.strategy = (spec.options?.strategy as Strategy | undefined) ?? 'consistent-hashing';
  }

  /** no one member is current (mihomo shows none) */
  now(): string {
    return '';
  }

  override get udp(): boolean {
    return !this.spec.disableUdp;
  }

  /** mihomo's LoadBalance JSON: no `now` */
  override details(): GroupDetails {
    return { hidden: this.hidden, icon: this.icon, testUrl: this.health.settings.url, expectedStatus: this.expectedStatus };
  }

  protected choose(meta: Metadata | undefined, touch: boolean): Outbound {
    const list = this.list();
    if (this.strategy === 'round-robin') return this.#roundRobin(list, touch);
    if (this.strategy === 'sticky-sessions') return this.#sticky(list, meta);
    return this.#hashing(list, meta);
  }

  #alive(o: Outbound): boolean {
    return this.health.alive(o.name);
  }

  #roundRobin(list: readonly Outbound[], touch: boolean): Outbound {
    for (let i = 0; i < list.length; i++) {
      const o = list[(this.#next + i) % list.length];
      if (this.#alive(o)) {
        if (touch) this.#next = (this.#next + i + 1) % list.length;
        return o;
      }
    }
    return list[0];
  }

  #hashing(list: readonly Outbound[], meta: Metadata | undefined): Outbound {
    let key = hash64(destinationKey(meta));
    for (let i = 0; i < MAX_RETRY; i++, key++) {
      const o = list[jumpHash(key, list.length)];
      if (this.#alive(o)) return o;
    }
    return list.find((o) => this.#alive(o)) ?? list[0];
  }

  #sticky(list: readonly Outbound[], meta: Metadata | undefined): Outbound {
    const key = hash64(`${meta?.source.host ?? ''}${destinationKey(meta)}`);
    const now = Date.now();
    const cached = this.#stuck.get(key);
    const has = cached !== undefined && now - cached.at < STICKY_TTL_MS && cached.index < list.length;
    const random = () => jumpHash(key + BigInt(Math.floor(Math.random() * 2 ** 32)), list.length);
    let index = has ? cached.index : random();
    for (let i = 1; i < MAX_RETRY; i++) {
      if (this.#alive(list[index])) {
        this.#remember(key, index, now);
        return list[index];
      }
      index = random();
    }
    this.#remember(key, 0, now);
    return list[0];
  }

  #remember(key: bigint, index: number, at: number): void {
    this.#stuck.delete(key);
    this.#stuck.set(key, { index, at });
    if (this.#stuck.size > STICKY_SIZE) this.#stuck.delete(this.#stuck.keys().next().value!);
  }
}

const loadBalanceSchema = z.looseObject({
  strategy: z.enum(STRATEGIES, { message: `unsupported strategy: expected one of ${STRATEGIES.join(', ')}` }).optional(),
});

/** `type: load-balance`, with `strategy`. */
export const loadBalanceDefinition: GroupDefinition = {
  type: 'load-balance',
  schema: loadBalanceSchema,
  keys: ['strategy'],
  create: (spec, ctx) => new LoadBalanceGroup(spec, ctx).built(),
};
