import type { FuzzTarget } from '../harness.js';
import { dnsTargets } from './dns.js';
import { httpTargets } from './http.js';
import { inboundTargets } from './inbound.js';
import { shadowsocksTargets } from './shadowsocks.js';
import { socksTargets } from './socks.js';
import { textTargets } from './text.js';
import { transportTargets } from './transport.js';
import { v2rayTargets } from './v2ray.js';

/** Every fuzz target: one per parser of network bytes or user text. */
export const TARGETS: readonly FuzzTarget<any>[] = [...socksTargets, ...httpTargets, ...inboundTargets, ...shadowsocksTargets, ...v2rayTargets, ...transportTargets, ...textTargets, ...dnsTargets];
