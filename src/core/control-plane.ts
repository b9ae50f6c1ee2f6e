import type { Address } from './address.js';
import type { ConfigIssue } from './config-issue.js';
import type { InboundInfo, Network } from './metadata.js';

/**
 * The one surface the REST API, the CLI, the library and tests talk to. The single-process core
 * (host/control.ts) and the cluster's primary (cluster/primary.ts) both implement it, so whatever
 * drives the core never knows how many processes carry the traffic. Views are plain data:
 * snapshots that can cross a process boundary and be turned into mihomo's JSON by the API.
 */
export interface ControlPlane {
  /** every outbound (built-ins, proxies, groups) of the running config, in config order */
  proxies(): ProxyView[];
  /** one outbound by name */
  proxy(name: string): ProxyView | undefined;
  /**
   * Switches a select group. Resolves false when the group or member does not exist or the
   * group cannot be switched; in a cluster, once every worker applied it.
   */
  select(group: string, member: string): Promise<boolean>;
  /**
   * A URL test through one outbound (a group tests its current member), recorded in its delay
   * history. Resolves with the delay in ms; rejects with ProxyError: DIAL_TIMEOUT when the
   * timeout passed, another code when the test failed or the status was not expected; CONFIG
   * for a bad URL or expected-status. Undefined for no such outbound.
   */
  delay(name: string, test: DelayTest): Promise<number | undefined>;
  /**
   * URL tests of every member of a group, at once: the delay of each member that answered as
   * expected (members that failed are absent, as mihomo's /group/:name/delay). Undefined for no
   * such group.
   */
  groupDelay(group: string, test: DelayTest): Promise<Record<string, number> | undefined>;
  /**
   * Clears the member fixed on a url-test or fallback group (mihomo's DELETE /proxies/:name).
   * Resolves false when there is no such group or it takes no fixed choice (a select group).
   */
  unfix(group: string): Promise<boolean>;

  /** live connections (in a cluster: as of the workers' last reports) */
  connections(): ConnectionView[];
  /**
   * The live connections one view at a time, each made when it is reached: a /connections
   * snapshot walks it across several loop turns (connections that end before they are reached
   * are left out, ones that start may be included). Without it, connections() is used.
   */
  eachConnection?(): Iterator<ConnectionView>;
  /** closes one connection; false when no such connection is live */
  closeConnection(id: string): Promise<boolean>;
  /** closes every live connection; resolves with how many were asked to close */
  closeAllConnections(): Promise<number>;
  /** bytes since start and the rate over the last full second */
  traffic(): TrafficView;
  /** memory in use by the core's process(es) */
  memory(): MemoryView;
  /** Receives every log entry at or above `level` (default: the core's level); returns the unsubscribe. */
  subscribeLogs(listener: (entry: LogView) => void, level?: LogViewLevel): () => void;

  /** the compiled rules, in order */
  rules(): RuleView[];
  /** proxy and rule providers of the running config */
  providers(): ProviderView[];
  /**
   * Updates a proxy-provider now (http: fetch; file: re-read). Resolves false for no such
   * provider; rejects with the reason when the update failed (its proxies stay as they were).
   */
  updateProvider(name: string): Promise<boolean>;
  /**
   * Runs a proxy-provider's health check now (every proxy tested with its health-check URL) and
   * resolves once it is done; false for no such provider. In a cluster: in every worker too.
   */
  healthCheckProvider(name: string): Promise<boolean>;
  /**
   * A URL test of one proxy of one provider, as `delay`; undefined when the provider or the
   * proxy in it does not exist.
   */
  providerProxyDelay(provider: string, proxy: string, test: DelayTest): Promise<number | undefined>;
  /**
   * Downloads the geo databases the running rules use again (POST /configs/geo) and, when one
   * changed, reloads so the rules use it; rejects with the reason (the old files stay).
   */
  updateGeo(): Promise<void>;
  /**
   * Updates a rule-provider now (http: fetch; file: re-read; inline: its time). Resolves false
   * for no such provider; rejects with the reason when the update failed (its set stays).
   */
  updateRuleProvider(name: string): Promise<boolean>;

  /** the running config's general settings */
  config(): GeneralView;
  /**
   * Changes settings live: mode and log level without a rebuild; ports, allow-lan and
   * bind-address through a reload of the patched config text. Throws ConfigError on bad values.
   */
  patchConfig(patch: ConfigPatch): Promise<void>;
  /** Parses and builds `config` aside, then swaps it in; throws ConfigError (nothing changed). */
  reload(config: string): Promise<ReloadResult>;

  /** resolves a name with the core's resolver */
  dnsQuery(name: string, type: 'A' | 'AAAA'): Promise<DnsQueryView>;
  /**
   * a query of any type answered by the core's DNS, as mihomo's /dns/query shows it (absent
   * where only dnsQuery exists: the cluster's primary)
   */
  dnsExchange?(name: string, type: string): Promise<DnsMessageView>;
  /** drops the resolver's cached answers (in a cluster: the primary's and every worker's) */
  flushDnsCache(): Promise<void>;
  /** forgets every fake-ip mapping (POST /cache/fakeip/flush) */
  flushFakeIpCache?(): Promise<void>;
  /** the warm pools' counters (in a cluster: the primary's own, which dials only URL tests) */
  warmPools(): WarmPoolView[];
  /** the tunnel's dial latencies per leaf proxy, for /metrics (absent: not reported) */
  dialStats?(): DialStatsView[];
  /** the resolver's cache hits and misses since start, for /metrics (absent: not reported) */
  dnsCacheStats?(): { hits: number; misses: number } | undefined;
}

/** Dial latencies through one proxy (or `other`): a Prometheus histogram in seconds. */
export interface DialStatsView {
  readonly proxy: string;
  /** upper bounds in seconds, ascending */
  readonly bounds: readonly number[];
  /** cumulative counts per bound, then +Inf */
  readonly cumulative: readonly number[];
  readonly sum: number;
  readonly count: number;
  /** dials that failed */
  readonly failures: number;
}

/** One warm pool's counters, for /metrics. */
export interface WarmPoolView {
  /** server:port and the TLS options that tell pools apart */
  readonly key: string;
  readonly hits: number;
  readonly misses: number;
  /** warm connections closed unused */
  readonly wasted: number;
  /** parked now */
  readonly size: number;
}

/** What a URL test asks for. */
export interface DelayTest {
  /** http:// or https:// */
  readonly url: string;
  readonly timeoutMs: number;
  /** mihomo's expected-status (`200/302/400-503`); any status when absent */
  readonly expected?: string;
}

/** One delay test result, as mihomo's history lists them. */
export interface DelayRecord {
  /** when the test ran (epoch ms) */
  readonly time: number;
  /** milliseconds; 0 = failed */
  readonly delay: number;
}

/** An outbound as the API shows it. */
export interface ProxyView {
  readonly name: string;
  /** mihomo's adapter type: Direct, Reject, Shadowsocks, Selector… */
  readonly type: string;
  readonly udp: boolean;
  /** groups: member names in order */
  readonly all?: readonly string[];
  /** groups: the member in use */
  readonly now?: string;
  /** the last delay tests, oldest first (at most 10) */
  readonly history: readonly DelayRecord[];
  /** false once its last URL test failed (true until tested, as mihomo) */
  readonly alive: boolean;
  /** groups: `hidden` and `icon` as configured */
  readonly hidden?: boolean;
  readonly icon?: string;
  /** url-test, fallback, load-balance: the URL their health check tests and the statuses it expects */
  readonly testUrl?: string;
  readonly expectedStatus?: string;
  /** url-test, fallback: the member the user fixed ('' = none) */
  readonly fixed?: string;
  /** a provider's proxy: the provider's name */
  readonly providerName?: string;
}

/** One live connection. */
export interface ConnectionView {
  readonly id: string;
  readonly network: Network;
  readonly inbound: InboundInfo;
  readonly source: Address;
  readonly destination: Address;
  /** the destination IP when the rules resolved one */
  readonly destinationIp?: string;
  /** the host the sniffer read (mihomo's `sniffHost`) */
  readonly sniffHost?: string;
  /** epoch ms */
  readonly start: number;
  /** mihomo's order: the outbound used first, the rule's target last */
  readonly chains: readonly string[];
  readonly rule: string;
  readonly rulePayload: string;
  readonly upload: number;
  readonly download: number;
  /** the cluster worker that carries it (cluster only) */
  readonly worker?: number;
  /** the local process owning the client socket, when a lookup ran (find-process-mode) */
  readonly process?: { readonly name: string; readonly path: string; readonly uid: number };
}

/** Bytes moved. */
export interface TrafficView {
  /** bytes per second over the last full second */
  readonly up: number;
  readonly down: number;
  /** bytes since start */
  readonly upTotal: number;
  readonly downTotal: number;
}

/** Memory figures (bytes). */
export interface MemoryView {
  /** resident set size of every process of the core */
  readonly inuse: number;
  /** 0: no limit known (as mihomo reports without a cgroup limit) */
  readonly oslimit: number;
}

export type LogViewLevel = 'debug' | 'info' | 'warning' | 'error';

/** A log entry. */
export interface LogView {
  readonly level: LogViewLevel;
  readonly message: string;
  /** epoch ms */
  readonly time: number;
}

/** One compiled rule. */
export interface RuleView {
  readonly index: number;
  /** mihomo's type name: DomainSuffix, IPCIDR, Match… */
  readonly type: string;
  readonly payload: string;
  /** the target */
  readonly proxy: string;
}

/** A provider (proxy or rule). */
export interface ProviderView {
  readonly name: string;
  readonly kind: 'proxy' | 'rule';
  readonly vehicleType: string;
  /** epoch ms of the last update; 0 = never */
  readonly updatedAt: number;
  /** proxy providers: the names of its proxies now, in order */
  readonly proxies?: readonly string[];
  /** proxy providers: the health check's URL ('' = none) and expected statuses, as mihomo shows them */
  readonly testUrl?: string;
  readonly expectedStatus?: string;
  /** rule providers: mihomo's behavior name (Domain, IPCIDR, Classical) */
  readonly behavior?: string;
  /** rule providers: mihomo's format name (YamlRule, TextRule, MrsRule; '' for inline) */
  readonly format?: string;
  /** rule providers: entries in the current set */
  readonly ruleCount?: number;
  /** inline rule providers: the entries as written */
  readonly payload?: readonly string[];
  /** from the subscription's `Subscription-Userinfo` header (bytes; Expire in epoch seconds) */
  readonly subscriptionInfo?: { readonly Upload: number; readonly Download: number; readonly Total: number; readonly Expire: number };
}

/** The general settings of the running config. */
export interface GeneralView {
  readonly mode: 'rule' | 'global' | 'direct';
  readonly logLevel: 'debug' | 'info' | 'warning' | 'error' | 'silent';
  readonly allowLan: boolean;
  readonly bindAddress: string;
  readonly ipv6: boolean;
  /** the bound ports of the default listeners; 0 = not listening */
  readonly port: number;
  readonly socksPort: number;
  readonly mixedPort: number;
  /** every started listener: name, type and bound address */
  readonly listeners: readonly { readonly name: string; readonly type: string; readonly address: Address }[];
}

/** What PATCH /configs may change. */
export interface ConfigPatch {
  readonly mode?: string;
  readonly logLevel?: string;
  readonly allowLan?: boolean;
  readonly bindAddress?: string;
  readonly port?: number;
  readonly socksPort?: number;
  readonly mixedPort?: number;
  /** live, as mihomo: AAAA answers on or off (the next reload takes the config's value again) */
  readonly ipv6?: boolean;
}

/** What a successful reload reports. */
export interface ReloadResult {
  /** the new generation's number (1 is the first config) */
  readonly generation: number;
  readonly warnings: readonly ConfigIssue[];
  /** listener changes: names kept bound, rebound, started, closed and failed */
  readonly listeners: ListenerDiffView;
}

/** How a reload changed the listeners. */
export interface ListenerDiffView {
  readonly kept: readonly string[];
  readonly rebound: readonly string[];
  readonly started: readonly string[];
  readonly closed: readonly string[];
  /** listeners that had to wait for a port one of ours freed, and then could not bind it (logged) */
  readonly failed: readonly string[];
}

/** One record of a DNS answer, as mihomo's /dns/query lists it. */
export interface DnsRecordView {
  readonly name: string;
  /** the record type number */
  readonly type: number;
  readonly ttl: number;
  /** the record's data as text */
  readonly data: string;
}

/** A whole DNS reply (mihomo's /dns/query body). */
export interface DnsMessageView {
  readonly status: number;
  readonly question: { readonly name: string; readonly type: number; readonly class: number };
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  readonly answer: readonly DnsRecordView[];
  readonly authority: readonly DnsRecordView[];
  readonly additional: readonly DnsRecordView[];
}

/** The answer to a DNS query. */
export interface DnsQueryView {
  readonly name: string;
  readonly type: 'A' | 'AAAA';
  readonly answers: readonly string[];
}
