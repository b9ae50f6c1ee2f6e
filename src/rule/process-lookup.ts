import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ipWords } from '../common/cidr.js';
import type { Metadata, Network } from '../core/metadata.js';

/** The local process that owns a connection's client socket (mihomo's metadata.Process…). */
export interface ProcessInfo {
  /** the executable's file name (mihomo: filepath.Base of the path) */
  readonly name: string;
  /** the executable's path (/proc/PID/exe) */
  readonly path: string;
  readonly uid: number;
  readonly pid: number;
}

/** The owner of a socket in /proc/net: uid and inode. */
interface SocketOwner {
  readonly uid: number;
  readonly inode: number;
}

/** Where /proc is (tests may point elsewhere). */
const PROC = '/proc';

/** The hex form /proc/net uses for an address: IPv4 one little-endian word, IPv6 four. */
function procHex(ip: string): { v4?: string; v6: string } | undefined {
  const w = ipWords(ip);
  if (!w) return undefined;
  // each 32-bit word as the kernel prints it: its network-order bytes read as a little-endian number
  const le = (x: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(x >>> 0);
    return b.toString('hex').toUpperCase();
  };
  if (w.length === 1) {
    // an IPv4 client of a dual-stack socket shows in tcp6 as ::ffff:a.b.c.d
    const v4 = le(w[0]);
    return { v4, v6: `0000000000000000FFFF0000${v4}` };
  }
  return { v6: [...w].map(le).join('') };
}

const ANY4 = '00000000';
const ANY6 = '0'.repeat(32);

/**
 * Finds the socket bound to `ip:port` in /proc/net/{tcp,tcp6} or {udp,udp6}: its uid and inode.
 * UDP sockets bound to the wildcard address count too.
 */
export function findSocket(network: Network, ip: string, port: number, proc = PROC): SocketOwner | undefined {
  const hex = procHex(ip);
  if (!hex) return undefined;
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const files: [string, string | undefined][] = [
    [`${network}`, hex.v4],
    [`${network}6`, hex.v6],
  ];
  let wildcard: SocketOwner | undefined;
  for (const [file, want] of files) {
    if (want === undefined) continue;
    let text: string;
    try {
      text = readFileSync(`${proc}/net/${file}`, 'latin1');
    } catch {
      continue;
    }
    const any = want.length === 8 ? ANY4 : ANY6;
    for (let at = text.indexOf('\n') + 1; at > 0 && at < text.length; ) {
      const end = text.indexOf('\n', at);
      const line = text.slice(at, end < 0 ? text.length : end);
      at = end < 0 ? -1 : end + 1;
      // sl local rem st queues tr retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const colon = f[1].indexOf(':');
      if (f[1].slice(colon + 1) !== portHex) continue;
      const addr = f[1].slice(0, colon);
      const owner = { uid: Number(f[7]), inode: Number(f[9]) };
      if (owner.inode === 0) continue;
      if (addr === want) return owner;
      if (network === 'udp' && addr === any) wildcard ??= owner;
    }
  }
  return wildcard;
}

/** Finds the process holding socket `inode` among the processes of `uid` (as mihomo's proc search). */
export function findProcessOfInode(inode: number, uid: number, proc = PROC): ProcessInfo | undefined {
  const want = `socket:[${inode}]`;
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    const dir = `${proc}/${pid}`;
    try {
      if (statSync(dir).uid !== uid) continue;
    } catch {
      continue;
    }
    let fds: string[];
    try {
      fds = readdirSync(`${dir}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${dir}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link !== want) continue;
      let path = '';
      try {
        path = readlinkSync(`${dir}/exe`);
      } catch {
        path = '';
      }
      if (path === '') {
        try {
          path = readFileSync(`${dir}/comm`, 'utf8').trim();
        } catch {
          path = '';
        }
      }
      return { name: basename(path), path, uid, pid: Number(pid) };
    }
  }
  return undefined;
}

/** mihomo's find-process-mode. */
export type FindProcessMode = 'off' | 'strict' | 'always';

/** How many connections' owners are remembered (by network, source address and port). */
export const PROCESS_CACHE_SIZE = 256;
/** How long a remembered owner is trusted: a source port is soon reused by another process. */
export const PROCESS_CACHE_MS = 2_000;

/** The process lookup of one generation: only when asked (a process rule reached, or `always`). */
export class ProcessFinder {
  readonly #byMeta = new WeakMap<Metadata, ProcessInfo | null>();
  readonly #recent = new Map<string, { info: ProcessInfo | null; at: number }>();
  readonly #proc: string;
  /** lookups that read /proc (for tests) */
  scans = 0;

  constructor(
    readonly mode: FindProcessMode,
    opts: { proc?: string } = {},
  ) {
    this.#proc = opts.proc ?? PROC;
  }

  /**
   * The owner of the connection's client socket, looked up once per connection (undefined when
   * the mode is off, the client is not on this host, or the platform has no /proc).
   */
  find(meta: Metadata): ProcessInfo | undefined {
    if (this.mode === 'off') return undefined;
    const known = this.#byMeta.get(meta);
    if (known !== undefined) return known ?? undefined;
    const key = `${meta.network} ${meta.source.host} ${meta.source.port}`;
    const now = Date.now();
    const recent = this.#recent.get(key);
    let info: ProcessInfo | null;
    if (recent && now - recent.at < PROCESS_CACHE_MS) info = recent.info;
    else {
      this.scans++;
      // /proc/net is read while sockets come and go, and the kernel may skip a line that moved
      // during the read: one more try before giving up
      let owner = findSocket(meta.network, meta.source.host, meta.source.port, this.#proc);
      owner ??= findSocket(meta.network, meta.source.host, meta.source.port, this.#proc);
      let found = owner && findProcessOfInode(owner.inode, owner.uid, this.#proc);
      if (owner && !found) found = findProcessOfInode(owner.inode, owner.uid, this.#proc);
      info = found ?? (owner ? { name: '', path: '', uid: owner.uid, pid: 0 } : null);
      this.#recent.delete(key);
      this.#recent.set(key, { info, at: now });
      if (this.#recent.size > PROCESS_CACHE_SIZE) this.#recent.delete(this.#recent.keys().next().value!);
    }
    this.#byMeta.set(meta, info);
    recordProcess(meta, info ?? undefined);
    return info ?? undefined;
  }
}

const processes = new WeakMap<Metadata, ProcessInfo>();

function recordProcess(meta: Metadata, info: ProcessInfo | undefined): void {
  if (info) processes.set(meta, info);
}

/** The process found for a connection, if a lookup ran (for the connection views). */
export function processOf(meta: Metadata): ProcessInfo | undefined {
  return processes.get(meta);
}
