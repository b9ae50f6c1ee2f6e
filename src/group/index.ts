import { fallbackDefinition } from './fallback/group.js';
import { loadBalanceDefinition } from './load-balance/group.js';
import { GroupRegistry } from './registry.js';
import { relayDefinition } from './relay/group.js';
import { selectDefinition } from './select/group.js';
import { urlTestDefinition } from './url-test/group.js';

/** The registry of every group `type` we implement. Adding a group type = one folder and one line here. */
export function createGroupRegistry(): GroupRegistry {
  return new GroupRegistry()
    .register(selectDefinition)
    .register(urlTestDefinition)
    .register(fallbackDefinition)
    .register(loadBalanceDefinition)
    .register(relayDefinition);
}
