import { directDefinition } from './direct/outbound.js';
import { ProxyRegistry } from './registry.js';
import { rejectDefinition } from './reject/outbound.js';

/** The registry of every proxy `type` we implement. Adding a protocol = one line here. */
export function createRegistry(): ProxyRegistry {
  return new ProxyRegistry()
    .register(directDefinition)
    .register(rejectDefinition);
}
