/**
 * clash-ts as a library, for embedding in Node or Electron apps:
 *
 * ```ts
 * import { start } from 'clash-ts';
 * const core = await start('mixed-port: 7890\nrules: ["MATCH,DIRECT"]\n');
 * core.events.on('connection-opened', (c) => console.log(c.destination));
 * await core.reload('mixed-port: 7890\nrules: ["MATCH,REJECT"]\n');
 * console.log(core.control.proxies());
 * await core.close();
 * ```
 */
import { Host, type ConfigInput, type HostOptions } from './host/host.js';

export { Host, type ConfigInput, type HostEvents, type HostOptions } from './host/host.js';
export type { Generation } from './host/generation.js';
export { loadConfig, DEFAULT_CONFIG_YAML, type Config, type LoadResult } from './config/load.js';
export { ConfigError, type ConfigIssue } from './core/config-issue.js';
export { ProxyError, type ErrorCode } from './core/errors.js';
export type * from './core/control-plane.js';
export type { HostService } from './core/service.js';
export type { Component } from './core/component.js';
export type { Address } from './core/address.js';
export type { Metadata, InboundType, Network } from './core/metadata.js';
export type { Outbound, ProxyGroup, PacketConn, Dialer } from './core/outbound.js';
export type { Rule } from './core/rule.js';
export { createLogger, type Logger, type LogLevel, type LogEntry } from './common/log.js';
export type { TrackedConnection } from './tunnel/tracker.js';
export { startCluster, type ClusterControl, type ClusterOptions, type ClusterWorkerView } from './cluster/primary.js';

/**
 * Starts a core from YAML text (mihomo's format) or an already loaded Config. The handle has
 * `reload()`, `close()`, `control` (the ControlPlane) and typed `events`. Throws ConfigError
 * listing every problem.
 */
export function start(config: ConfigInput, opts: HostOptions = {}): Promise<Host> {
  return Host.start(config, opts);
}
