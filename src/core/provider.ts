import type { Component } from './component.js';
import type { Outbound } from './outbound.js';

/** mihomo's provider vehicle types, as its API names them. */
export type VehicleType = 'File' | 'HTTP' | 'Inline' | 'Compatible';

/** mihomo's `Subscription-Userinfo` header, as its API shows it (bytes; Expire in epoch seconds). */
export interface SubscriptionInfo {
  readonly Upload: number;
  readonly Download: number;
  readonly Total: number;
  readonly Expire: number;
}

/**
 * A proxy-provider: a named, refreshable set of proxies (a subscription) that groups take
 * members from (`use:`). The generation builds, starts and closes it like any component; its
 * set may change while it runs (a refresh), and groups re-read it when told.
 */
export interface ProxyProvider extends Component {
  readonly name: string;
  readonly vehicleType: VehicleType;
  /** the proxies it holds now, in order (empty until its first load) */
  proxies(): readonly Outbound[];
  /** Adds a listener told after each change of `proxies()`; returns the remover. */
  onChange(listener: () => void): () => void;
  /** epoch ms of the last successful load; 0 = never */
  readonly updatedAt: number;
  /** from the last HTTP fetch, when the server sent one */
  readonly subscriptionInfo: SubscriptionInfo | undefined;
  /** Fetches / re-reads now; rejects with the reason when it fails (the old set stays). */
  update(): Promise<void>;
  /** its `health-check` URL ('' = none): a group that `use`s it with no `url` of its own tests this one (mihomo) */
  readonly testUrl: string;
  /** its `health-check` expected-status as mihomo shows it (`*` = any) */
  readonly expectedStatus: string;
  /** A group using it was used: its lazy health check may run. */
  touch(): void;
  /** Runs its health check now (every proxy tested); resolves when done, at once when it has no URL. */
  healthCheck(): Promise<void>;
}
