import type { Logger } from '../common/log.js';
import type { ListenerConfig } from '../config/load.js';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import type { ListenerDiffView } from '../core/control-plane.js';
import { errorMessage } from '../core/errors.js';
import type { Inbound } from '../core/inbound.js';
import type { ListenerContext, ListenerDefinition, ListenerRegistry } from '../inbound/registry.js';

/**
 * Listeners that could not be bound (a port in use, no such address): a ConfigError, so a
 * reload reports them with the config's path, whose message is the system's words alone
 * (`bind EADDRINUSE 127.0.0.1:7890`), as a start failure is logged.
 */
export class BindError extends ConfigError {
  constructor(issues: readonly ConfigIssue[]) {
    super(issues);
    this.message = issues.map((i) => i.message).join('; ');
    this.name = 'BindError';
  }
}

/** One started listener. */
interface Bound {
  readonly config: ListenerConfig;
  readonly key: string;
  readonly inbound: Inbound;
}

/** A change of listeners, prepared aside: nothing visible changed until `commit`. */
export interface ListenerChange {
  /** Closes what goes, rebinds what changed, keeps the rest; resolves with what happened. */
  commit(): Promise<ListenerDiffView>;
  /** Undoes the preparation (closes the listeners it bound). */
  rollback(): Promise<void>;
}

interface Planned {
  readonly config: ListenerConfig;
  readonly def: ListenerDefinition;
  readonly key: string;
}

/**
 * The host's started listeners, diffed against each new config: a listener whose name and
 * key are unchanged stays bound (its socket and connections untouched); a changed one is closed
 * and bound again; a new one is started; a removed one closed. Listeners on ports nobody holds
 * yet are bound before the swap, so a port already taken fails the reload with nothing changed;
 * the ones that need a port one of ours frees (a listener whose options changed but not its
 * port) are bound right after the swap, and one that fails then is logged and reported as failed.
 */
export class ListenerSet {
  readonly #registry: ListenerRegistry;
  readonly #log: Logger;
  readonly #bound = new Map<string, Bound>();

  constructor(registry: ListenerRegistry, log: Logger) {
    this.#registry = registry;
    this.#log = log;
  }

  /** every started listener, in start order */
  inbounds(): Inbound[] {
    return [...this.#bound.values()].map((b) => b.inbound);
  }

  /** each started listener with its config */
  entries(): { config: ListenerConfig; inbound: Inbound }[] {
    return [...this.#bound.values()].map((b) => ({ config: b.config, inbound: b.inbound }));
  }

  /**
   * Plans the change to `configs` and binds the listeners that take a port none of ours holds.
   * Throws ConfigError listing every listener that cannot be built or bound (all bound ones
   * closed again: nothing changed).
   */
  async prepare(configs: readonly ListenerConfig[], ctx: ListenerContext): Promise<ListenerChange> {
    const issues: ConfigIssue[] = [];
    const planned: Planned[] = [];
    for (const l of configs) {
      const def = this.#registry.get(l.type);
      if (!def) {
        issues.push({ path: l.path, line: l.line, message: `listener type ${l.type} cannot be started` });
        continue;
      }
      planned.push({ config: l, def, key: def.key(l, ctx) });
    }
    if (issues.length > 0) throw new ConfigError(issues);

    const names = new Set(planned.map((p) => p.config.name));
    const kept: Planned[] = [];
    const rebound: Planned[] = [];
    const fresh: Planned[] = [];
    for (const p of planned) {
      const b = this.#bound.get(p.config.name);
      if (b && b.key === p.key) kept.push(p);
      else if (b) rebound.push(p);
      else fresh.push(p);
    }
    const going = [...this.#bound.values()].filter((b) => !names.has(b.config.name) || rebound.some((p) => p.config.name === b.config.name));
    const freedPorts = new Set(going.map((b) => b.inbound.address().port));
    // one that takes a port we are about to free must wait for it; the rest bind now, beside
    // the listeners they replace, so a port someone else holds fails the reload up front
    const early = [...rebound, ...fresh].filter((p) => p.config.port === 0 || !freedPorts.has(p.config.port));
    const late = [...rebound, ...fresh].filter((p) => !early.includes(p));

    const started: Bound[] = [];
    const results = await Promise.allSettled(early.map((p) => this.#start(p, ctx)));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') started.push(r.value);
      else {
        const l = early[i].config;
        issues.push({ path: l.path, line: l.line, message: errorMessage(r.reason) });
      }
    });
    if (issues.length > 0) {
      await Promise.allSettled(started.map((b) => b.inbound.close()));
      throw new BindError(issues);
    }

    let done = false;
    return {
      commit: async () => {
        done = true;
        await Promise.allSettled(going.map((b) => b.inbound.close()));
        const order = new Map(planned.map((p, i) => [p.config.name, i]));
        const next = new Map<string, Bound>();
        for (const p of kept) next.set(p.config.name, { ...this.#bound.get(p.config.name)!, config: p.config });
        for (const b of started) next.set(b.config.name, b);
        const failed: string[] = [];
        for (const p of late) {
          try {
            next.set(p.config.name, await this.#start(p, ctx));
          } catch (err) {
            failed.push(p.config.name);
            this.#log.error(`listener ${p.config.name} at ${p.config.listen}:${p.config.port}: ${errorMessage(err)}`);
          }
        }
        this.#bound.clear();
        for (const b of [...next.values()].sort((a, b) => order.get(a.config.name)! - order.get(b.config.name)!)) {
          this.#bound.set(b.config.name, b);
        }
        for (const b of [...started, ...late.map((p) => next.get(p.config.name)).filter((b): b is Bound => b !== undefined)]) {
          this.#log.info(this.#registry.get(b.config.type)!.listeningLine(b.config, b.inbound));
        }
        return {
          kept: kept.map((p) => p.config.name),
          rebound: rebound.map((p) => p.config.name),
          started: fresh.map((p) => p.config.name),
          closed: going.filter((b) => !names.has(b.config.name)).map((b) => b.config.name),
          failed,
        };
      },
      rollback: async () => {
        if (done) return;
        done = true;
        await Promise.allSettled(started.map((b) => b.inbound.close()));
      },
    };
  }

  /** Stops every listener (their live connections are the tunnel's). */
  async close(): Promise<void> {
    const all = [...this.#bound.values()];
    this.#bound.clear();
    await Promise.allSettled(all.map((b) => b.inbound.close()));
  }

  async #start(p: Planned, ctx: ListenerContext): Promise<Bound> {
    const inbound = await p.def.start(p.config, ctx);
    return { config: p.config, key: p.key, inbound };
  }
}
