import type { Duplex } from 'node:stream';
import type { Metadata } from '../../core/metadata.js';
import type { DialOptions, Outbound, PacketConn, ProxyGroup } from '../../core/outbound.js';
import type { BuiltGroup, GroupContext, GroupDetails, GroupSpec } from '../registry.js';
import { HealthCheck, healthSettings } from './health.js';
import { Members } from './members.js';

/**
 * What every group type shares: its members (Members), its health check (a Component of the
 * generation), UDP as the chosen member has it unless `disable-udp`, and dials through the
 * chosen member reported back to the check (failure counting). A type says only how it
 * chooses (`choose`) and what the API shows as `now`.
 */
export abstract class GroupBase implements ProxyGroup {
  abstract readonly type: string;
  readonly name: string;
  readonly hidden: boolean;
  readonly icon: string;
  readonly health: HealthCheck;
  protected readonly spec: GroupSpec;
  protected readonly ctx: GroupContext;
  protected readonly set: Members;

  constructor(spec: GroupSpec, ctx: GroupContext) {
    // as mihomo: every type but select and relay checks every 300 s unless told otherwise
    const auto = spec.type !== 'select' && spec.type !== 'relay';
    this.name = spec.name;
    this.spec = spec;
    this.ctx = ctx;
    this.hidden = spec.hidden ?? false;
    this.icon = spec.icon ?? '';
    this.set = new Members(spec, ctx);
    // as mihomo: a group using providers, with no url of its own, tests the first provider health-check url
    const inherited = spec.url === undefined ? (spec.use ?? []).map((n) => ctx.providers.get(n)?.testUrl ?? '').find((u) => u !== '') : undefined;
    this.health = new HealthCheck({
      group: spec.name,
      settings: healthSettings(inherited === undefined ? spec : { ...spec, url: inherited }, auto),
      members: () => this.set.list(),
      env: ctx.health,
      log: ctx.log,
      onChecked: () => this.checked(),
    });
  }

  /** member names, in order (filters applied) */
  get members(): readonly string[] {
    return this.set.names();
  }

  /** the member outbounds, in order */
  protected list(): readonly Outbound[] {
    return this.set.list();
  }

  get udp(): boolean {
    if (this.spec.disableUdp) return false;
    return this.choose(undefined, false).udp;
  }

  abstract now(): string;

  /** mihomo's expected-status as its JSON shows it (`*` when none) */
  get expectedStatus(): string {
    const s = (this.spec.expectedStatus ?? '').trim();
    return s === '' ? '*' : s;
  }

  /** What the API shows: every type has hidden and icon; each type adds its own (mihomo's MarshalJSON). */
  details(): GroupDetails {
    return { hidden: this.hidden, icon: this.icon, now: this.now() };
  }

  /** The member for this connection; `touch` when a connection (not the API) asks. */
  protected abstract choose(meta: Metadata | undefined, touch: boolean): Outbound;

  /** After each health check (url-test recomputes its fastest). */
  protected checked(): void {}

  pick(meta: Metadata): Outbound {
    this.health.touch();
    this.set.touch();
    return this.choose(meta, true);
  }

  /** The router dialed through `member`: tell the check. */
  dialed(member: Outbound, err?: unknown): void {
    if (err === undefined) this.health.dialSucceeded();
    else this.health.dialFailed(member, err);
  }

  async dialTcp(meta: Metadata, opts: DialOptions): Promise<Duplex> {
    const m = this.pick(meta);
    try {
      const s = await m.dialTcp(meta, opts);
      this.dialed(m);
      return s;
    } catch (err) {
      this.dialed(m, err);
      throw err;
    }
  }

  async dialUdp(meta: Metadata, opts: DialOptions): Promise<PacketConn> {
    if (this.spec.disableUdp) throw new Error(`group ${this.name}: UDP is disabled (disable-udp)`);
    return this.pick(meta).dialUdp(meta, opts);
  }

  async close(): Promise<void> {
    this.health.close();
    this.set.close();
  }

  /** The group and its health check, as GroupDefinition.create returns them. */
  built(): BuiltGroup {
    return { group: this, components: [this.health] };
  }
}
