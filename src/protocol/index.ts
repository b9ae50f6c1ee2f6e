import { directDefinition } from './direct/outbound.js';
import { httpDefinition } from './http/outbound.js';
import { ProxyRegistry } from './registry.js';
import { rejectDefinition } from './reject/outbound.js';
import { shadowsocksDefinition } from './shadowsocks/outbound.js';
import { vmessDefinition } from './vmess/outbound.js';
import { socks5Definition } from './socks5/outbound.js';
import { trojanDefinition } from './trojan/outbound.js';
import { vlessDefinition } from './vless/outbound.js';

/** The registry of every proxy `type` we implement. Adding a protocol = one line here. */
export function createRegistry(): ProxyRegistry {
  return new ProxyRegistry()
    .register(directDefinition)
    .register(rejectDefinition)
    .register(shadowsocksDefinition)
    .register(vmessDefinition)
    .register(httpDefinition)
    .register(socks5Definition)
    .register(vlessDefinition)
    .register(trojanDefinition);
}
