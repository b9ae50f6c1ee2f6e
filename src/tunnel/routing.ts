import type { Sniffer } from '../core/sniffer.js';
import type { Router } from './route.js';

/**
 * One config generation as the tunnel sees it: the router to route with, and a count of the
 * connections it carries, so the generation is retired only once the last of them ends.
 */
export interface RoutingTable {
  readonly router: Router;
  /** the sniffer (`sniffer:`), when enabled: it reads the host from the first bytes before routing */
  readonly sniffer?: Sniffer;
  /** a connection (or UDP session) was routed by this table and is live */
  retain(): void;
  /** that connection ended; called exactly once per retain */
  release(): void;
}

/** Where the tunnel finds the live generation: asked once per connection. */
export interface RoutingSource {
  current(): RoutingTable;
}
