/**
 * A part of the host that outlives generations but follows the config: the REST controller,
 * later the DNS listener. The host applies each new config to it right after the swap (the
 * first one at start) and closes it before anything else when the host stops. `apply` decides
 * itself what changed (a controller rebinds only when its address changed).
 */
export interface HostService<C = unknown> {
  /** a label for logs: `controller` */
  readonly label: string;
  /** Follows a config that was just swapped in; a failure is logged (the swap already happened). */
  apply(config: C): void | Promise<void>;
  /** Stops it; idempotent. */
  close(): void | Promise<void>;
}
