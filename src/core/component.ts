/**
 * A part of a generation with timers, sockets or files of its own (a health check, a provider,
 * a geo database): the generation starts it once the generation is live and closes it when the
 * generation retires. Building one must not start anything, so a config that fails to build
 * leaves nothing running.
 */
export interface Component {
  /** a label for logs: `health-check(auto)`, `provider(sub)` */
  readonly label: string;
  /** begins its work (first timers, first fetch); errors are logged, never thrown into the swap */
  start(): void | Promise<void>;
  /** stops every timer and releases every handle; idempotent */
  close(): void | Promise<void>;
}
