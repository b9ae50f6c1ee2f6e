import { GroupRegistry } from './registry.js';
import { selectDefinition } from './select/group.js';

/** The registry of every group `type` we implement. Adding a group type = one folder and one line here. */
export function createGroupRegistry(): GroupRegistry {
  return new GroupRegistry().register(selectDefinition);
}
