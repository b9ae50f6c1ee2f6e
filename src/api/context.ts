import type { Logger } from '../common/log.js';
import type { ControlPlane } from '../core/control-plane.js';
import type { CorsSettings } from './cors.js';
import type { DashboardStorage } from './storage-file.js';

/** What the controller serves with; `settings` follow each reload. */
export interface ApiSettings {
  readonly secret: string;
  readonly cors: CorsSettings;
  /** the resolved external-ui folder (external-ui/external-ui-name), when set */
  readonly uiDir: string | undefined;
}

/** Everything the routes read: the control plane and the controller's own state. */
export interface ApiContext {
  readonly control: ControlPlane;
  readonly log: Logger;
  settings(): ApiSettings;
  /** the home directory (-d): PUT /configs paths must be inside it or SAFE_PATHS */
  readonly homeDir: string;
  /** the config file PUT /configs reloads when it names no path */
  readonly configFile: string | undefined;
  /** POST /restart: re-reads the config file and swaps it in (absent: 501) */
  readonly restart: (() => Promise<void>) | undefined;
  /** /storage/:key values (bounded; kept in the home dir) */
  readonly storage: DashboardStorage;
}
