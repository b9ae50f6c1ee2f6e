import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** The addresses a hosts file gives one name, split by family. */
export interface HostsEntry {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
}

/** A parsed hosts file: lower-case name (no trailing dot) → addresses. */
export type HostsTable = ReadonlyMap<string, HostsEntry>;

// Bounds so a huge or hostile file cannot eat memory: a generous ad-block hosts file has
// ~200k lines; anything past these limits is ignored.
const MAX_LINES = 1_000_000;
const MAX_ADDRESSES_PER_NAME = 64;

/**
 * Parses hosts-file text (`ip name [alias…]`, `#` comments). Lines with an invalid IP are
 * skipped; zone indexes (`fe80::1%eth0`) are skipped too since a name cannot carry a zone
 * through the Resolver interface. `localhost` always resolves to loopback: 127.0.0.1 and ::1
 * are added for whichever family the file does not list (RFC 6761 reserves the name).
 */
export function parseHosts(text: string): HostsTable {
  const table = new Map<string, { v4: string[]; v6: string[] }>();
  const lines = text.split(/\r?\n/, MAX_LINES);
  for (const raw of lines) {
    const hash = raw.indexOf('#');
    const line = hash >= 0 ? raw.slice(0, hash) : raw;
    const fields = line.split(/[ \t]+/).filter((f) => f !== '');
    if (fields.length < 2) continue;
    const family = isIP(fields[0]);
    if (family === 0 || fields[0].includes('%')) continue;
    const ip = fields[0].toLowerCase();
    for (let i = 1; i < fields.length; i++) {
      const name = normalizeHostsName(fields[i]);
      if (name === '') continue;
      let entry = table.get(name);
      if (!entry) {
        entry = { v4: [], v6: [] };
        table.set(name, entry);
      }
      const list = family === 4 ? entry.v4 : entry.v6;
      if (list.length < MAX_ADDRESSES_PER_NAME && !list.includes(ip)) list.push(ip);
    }
  }
  const localhost = table.get('localhost') ?? { v4: [], v6: [] };
  if (localhost.v4.length === 0) localhost.v4.push('127.0.0.1');
  if (localhost.v6.length === 0) localhost.v6.push('::1');
  table.set('localhost', localhost);
  return table;
}

/**
 * Reads and parses a hosts file. A missing or unreadable file yields the table of an empty
 * file (just `localhost`): a host without /etc/hosts still works.
 */
export function readHostsFile(path: string): HostsTable {
  let text = '';
  try {
    // Read once at start-up (synchronously, like the config): not on any hot path.
    text = readFileSync(path, 'utf8');
  } catch {
    text = '';
  }
  return parseHosts(text);
}

function normalizeHostsName(field: string): string {
  const name = field.toLowerCase().replace(/\.$/, '');
  if (name === '' || name.length > 253 || isIP(name) !== 0) return '';
  return name;
}
