/**
 * The REST controller as a HostService: follows each config (rebinding only when
 * external-controller or external-controller-unix changed; secret, CORS and the UI folder apply
 * at once) and serves whichever ControlPlane it is given (the host's, or the cluster primary's).
 */
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../common/log.js';
import type { Config } from '../config/load.js';
import { formatAddress, parseHostPort } from '../core/address.js';
import type { ControlPlane } from '../core/control-plane.js';
import type { HostService } from '../core/service.js';
import type { ApiContext, ApiSettings } from './context.js';
import { Router } from './router.js';
import { routes } from './routes/index.js';
import { ApiServer } from './server.js';
import { DashboardStorage, STORAGE_FILE } from './storage-file.js';

export interface ControllerOptions {
  readonly log: Logger;
  /** -d: relative paths (external-ui, the Unix socket) resolve against it; PUT /configs paths must be inside it */
  readonly homeDir: string;
  readonly configFile?: string;
  /** what POST /restart does (the CLI re-reads its config file) */
  readonly restart?: () => Promise<void>;
}

/** A bound server and the address (host:port or socket path) it was bound for. */
interface Bound {
  readonly key: string;
  readonly server: ApiServer;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export class ControllerService implements HostService<Config> {
  readonly label = 'controller';
  readonly #o: ControllerOptions;
  readonly #router: Router;
  readonly #storage: DashboardStorage;
  #context: ApiContext | undefined;
  #settings: ApiSettings = { secret: '', cors: { allowOrigins: ['*'], allowPrivateNetwork: true }, uiDir: undefined };
  #tcp: Bound | undefined;
  #unix: Bound | undefined;
  #closed = false;

  constructor(o: ControllerOptions) {
    this.#o = o;
    this.#router = routes();
    this.#storage = new DashboardStorage(join(o.homeDir, STORAGE_FILE), o.log);
  }

  /** The control plane to serve; until it is set, requests get 503. */
  serve(control: ControlPlane): void {
    const settings = () => this.#settings;
    this.#context = { control, log: this.#o.log, settings, homeDir: this.#o.homeDir, configFile: this.#o.configFile, restart: this.#o.restart, storage: this.#storage };
  }

  /** the bound TCP address (tests bind port 0 through this) */
  address(): { host: string; port: number } | undefined {
    const a = this.#tcp?.server.server.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  async apply(config: Config): Promise<void> {
    if (this.#closed) return;
    const g = config.general;
    const ui = g.externalUi === undefined ? undefined : resolve(this.#o.homeDir, g.externalUi, g.externalUiName ?? '');
    this.#settings = { secret: g.secret, cors: { allowOrigins: [...g.externalControllerCors.allowOrigins], allowPrivateNetwork: g.externalControllerCors.allowPrivateNetwork }, uiDir: ui };
    const errors: string[] = [];
    await this.#applyTcp(g.externalController).catch((err: Error) => errors.push(err.message));
    const unixPath = g.externalControllerUnix === undefined ? undefined : resolve(this.#o.homeDir, g.externalControllerUnix);
    await this.#applyUnix(unixPath).catch((err: Error) => errors.push(err.message));
    if (errors.length > 0) throw new Error(errors.join('; '));
  }

  async #applyTcp(text: string | undefined): Promise<void> {
    this.#tcp = await this.#rebind(this.#tcp, text, false, async (server, key) => {
      const addr = parseHostPort(key);
      if (!addr) throw new Error(`external-controller ${key} is not host:port`);
      try {
        await server.listen(addr);
      } catch (err) {
        throw new Error(`External controller listen error: ${(err as Error).message}`);
      }
      const a = server.server.address();
      this.#o.log.info(`RESTful API listening at: ${a && typeof a === 'object' ? formatAddress({ host: a.address, port: a.port }) : key}`);
      if (!isLoopback(addr.host) && this.#settings.secret === '') {
        this.#o.log.warn(`the RESTful API on ${key} has no secret: anyone who reaches it controls the core (set secret)`);
      }
    });
  }

  async #applyUnix(path: string | undefined): Promise<void> {
    this.#unix = await this.#rebind(this.#unix, path, true, async (server, key) => {
      try {
        mkdirSync(dirname(key), { recursive: true });
        try {
          unlinkSync(key); // a stale socket file from an earlier run
        } catch {
          // none there
        }
        await server.listen({ path: key });
        chmodSync(key, 0o666);
      } catch (err) {
        await server.close();
        throw new Error(`External controller unix listen error: ${(err as Error).message}`);
      }
      this.#o.log.info(`RESTful API unix listening at: ${key}`);
    });
  }

  /** The binding for `key`: the old one when the key is the same, else a new server (none for undefined). */
  async #rebind(old: Bound | undefined, key: string | undefined, trusted: boolean, bind: (server: ApiServer, key: string) => Promise<void>): Promise<Bound | undefined> {
    if (old?.key === key) return old;
    // stops listening at once; not awaited: the request that caused this reload (PUT /configs)
    // is still being answered on it
    if (old) void old.server.close();
    if (key === undefined) return undefined;
    const server = this.#server(trusted);
    await bind(server, key);
    return { key, server };
  }

  #server(trusted: boolean): ApiServer {
    return new ApiServer({ router: this.#router, context: () => this.#context, trusted });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const tcp = this.#tcp;
    const unix = this.#unix;
    this.#tcp = undefined;
    this.#unix = undefined;
    await Promise.allSettled([tcp?.server.close(), unix?.server.close()]);
    await this.#storage.settled();
    if (unix) {
      try {
        unlinkSync(unix.key);
      } catch {
        // already gone
      }
    }
  }
}
