/**
 * clash-ts as a library, for embedding in Node or Electron apps:
 *
 * ```ts
 * import { start } from 'clash-ts';
 * const core = await start('mixed-port: 7890\nrules: ["MATCH,DIRECT"]\n');
 * // … later
 * await core.close();
 * ```
 */
import { App, type AppOptions } from './app.js';
import { loadConfig, type Config } from './config/load.js';
import { createRegistry } from './protocol/index.js';
import { ruleLineProblem } from './rule/parse.js';

export { App, buildGraph, type AppOptions, type Graph } from './app.js';
export { loadConfig, DEFAULT_CONFIG_YAML, type Config } from './config/load.js';
export { ConfigError, type ConfigIssue } from './core/config-issue.js';
export { ProxyError, type ErrorCode } from './core/errors.js';
export type { Address } from './core/address.js';
export type { Metadata, InboundType, Network } from './core/metadata.js';
export type { Outbound, ProxyGroup, PacketConn, Dialer } from './core/outbound.js';
export type { Rule } from './core/rule.js';
export { createLogger, type Logger, type LogLevel, type LogEntry } from './common/log.js';
export type { TrackedConnection } from './tunnel/tracker.js';
export { startCluster, type ClusterControl, type ClusterOptions, type ClusterWorkerView } from './cluster/primary.js';
export type { ClusterConnection } from './cluster/ledger.js';

/**
 * Starts a core from YAML text (mihomo's format) or an already loaded Config.
 * Throws ConfigError listing every problem.
 */
export async function start(config: string | Config, opts: AppOptions = {}): Promise<App> {
  const registry = opts.registry ?? createRegistry();
  const loaded = typeof config === 'string' ? loadConfig(config, { registry, checkRule: ruleLineProblem }).config : config;
  return App.start(loaded, { ...opts, registry });
}
