import { readdir, readFile, readlink, stat } from 'node:fs/promises';
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
 * The owner in a /proc/net table of the socket whose local address is `want`:`portHex`. The
 * needle `ADDR:PORT ` is searched with indexOf (native, no string per line); a hit is checked to
 * be the line's local-address field, not its remote one. One local port may stand in several
 * lines (sockets of other processes connected elsewhere from the same port): the one whose
 * remote port is `peerHex` (our listener's) wins, else the first.
 */
function ownerIn(text: string, want: string, portHex: string, peerHex: string | undefined): SocketOwner | undefined {
  const needle = `${want}:${portHex} `;
  let first: SocketOwner | undefined;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const lineStart = text.lastIndexOf('\n', at) + 1;
    const lineEnd = text.indexOf('\n', at);
    // sl local rem st queues tr retrnsmt uid timeout inode
    const f = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd).trim().split(/\s+/);
    if (f.length < 10 || f[1] !== needle.slice(0, -1)) continue;
    const owner = { uid: Number(f[7]), inode: Number(f[9]) };
    if (owner.inode === 0) continue;
    if (peerHex === undefined || f[2].endsWith(`:${peerHex}`)) return owner;
    first ??= owner;
  }
  return first;
}

/**
 * Finds the socket bound to `ip:port` in /proc/net/{tcp,tcp6} or {udp,udp6}: its uid and inode.
 * UDP sockets bound to the wildcard address count too. `peerPort` (the listener's port) picks
 * among sockets sharing the local port. The tables are read asynchronously; a
 * table holds a line per socket of the host, so a busy host's is large: it is searched, not split.
 */
export async function findSocket(network: Network, ip: string, port: number, proc = PROC, peerPort?: number): Promise<SocketOwner | undefined> {
  const hex = procHex(ip);
  if (!hex) return undefined;
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const peerHex = peerPort === undefined || peerPort <= 0 ? undefined : peerPort.toString(16).toUpperCase().padStart(4, '0');
  const files: [string, string | undefined][] = [
    [`${network}`, hex.v4],
    [`${network}6`, hex.v6],
  ];
  let wildcard: SocketOwner | undefined;
  for (const [file, want] of files) {
    if (want === undefined) continue;
    let text: string;
    try {
      text = await readFile(`${proc}/net/${file}`, 'latin1');
    } catch {
      continue;
    }
    const owner = ownerIn(text, want, portHex, peerHex);
    if (owner) return owner;
    if (network === 'udp') wildcard ??= ownerIn(text, want.length === 8 ? ANY4 : ANY6, portHex, peerHex);
  }
  return wildcard;
}

/** How many readlinks of one process's fds are in flight at once (libuv's pool has 4 threads). */
const FD_BATCH = 32;

/** The pid's executable path (/proc/PID/exe, else its comm), '' when unreadable. */
async function exePath(dir: string): Promise<string> {
  const path = await readlink(`${dir}/exe`).catch(() => '');
  if (path !== '') return path;
  return (await readFile(`${dir}/comm`, 'utf8').catch(() => '')).trim();
}

/**
 * Finds the process holding socket `inode` among the processes of `uid` (as mihomo's proc
 * search), with asynchronous reads: the event loop runs on while /proc is walked.
 */
export async function findProcessOfInode(inode: number, uid: number, proc = PROC): Promise<ProcessInfo | undefined> {
  const want = `socket:[${inode}]`;
  let pids: string[];
  try {
    pids = (await readdir(proc)).filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    const dir = `${proc}/${pid}`;
    try {
      if ((await stat(dir)).uid !== uid) continue;
    } catch {
      continue;
    }
    let fds: string[];
    try {
      fds = await readdir(`${dir}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (let i = 0; i < fds.length; i += FD_BATCH) {
      const links = await Promise.all(fds.slice(i, i + FD_BATCH).map((fd) => readlink(`${dir}/fd/${fd}`).catch(() => '')));
      if (!links.includes(want)) continue;
      const path = await exePath(dir);
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

/**
 * Thrown by ProcessFinder.find for a connection the rule engine is matching whose owner is not
 * known yet: the engine awaits ProcessFinder.lookup and runs the same step again (rules are pure,
 * so a rule deep in AND/OR, a SUB-RULE or a classical rule-set needs no flag of its own).
 */
export class ProcessPending {
  static readonly instance = new ProcessPending();
  private constructor() {}
}

/** The process lookup of one generation: only when asked (a process rule reached, or `always`). */
export class ProcessFinder {
  readonly #byMeta = new WeakMap<Metadata, ProcessInfo | null>();
  /** connections being matched by the engine: a process rule there waits for `lookup` */
  readonly #armed = new WeakSet<Metadata>();
  readonly #recent = new Map<string, { info: ProcessInfo | null; at: number }>();
  /** lookups running, by key: connections from one socket share one walk of /proc */
  readonly #running = new Map<string, Promise<ProcessInfo | null>>();
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
   * The rule engine is about to match `meta`: a process rule reached before the owner is known
   * throws ProcessPending (the engine then calls `lookup`). Off: nothing to arm.
   */
  arm(meta: Metadata): boolean {
    if (this.mode === 'off') return false;
    this.#armed.add(meta);
    return true;
  }

  /**
   * The owner of the connection's client socket, as far as known now, without reading /proc:
   * undefined when the mode is off, the client is not on this host, or no lookup ran; throws
   * ProcessPending while the engine matches an armed connection not looked up yet.
   */
  find(meta: Metadata): ProcessInfo | undefined {
    if (this.mode === 'off') return undefined;
    const known = this.#byMeta.get(meta);
    if (known !== undefined) return known ?? undefined;
    const recent = this.#recent.get(keyOf(meta));
    if (recent && Date.now() - recent.at < PROCESS_CACHE_MS) return this.#record(meta, recent.info);
    if (this.#armed.has(meta)) throw ProcessPending.instance;
    return undefined;
  }

  /** Looks the owner up (asynchronous reads of /proc, once per connection) and remembers it. */
  async lookup(meta: Metadata): Promise<ProcessInfo | undefined> {
    if (this.mode === 'off') return undefined;
    const known = this.#byMeta.get(meta);
    if (known !== undefined) return known ?? undefined;
    const key = keyOf(meta);
    const recent = this.#recent.get(key);
    let info: ProcessInfo | null;
    if (recent && Date.now() - recent.at < PROCESS_CACHE_MS) info = recent.info;
    else {
      let running = this.#running.get(key);
      if (!running) {
        running = this.#scan(meta).catch(() => null);
        this.#running.set(key, running);
        void running.finally(() => this.#running.delete(key));
      }
      info = await running;
    }
    this.#armed.delete(meta);
    return this.#record(meta, info);
  }

  async #scan(meta: Metadata): Promise<ProcessInfo | null> {
    this.scans++;
    const { network } = meta;
    const { host, port } = meta.source;
    // /proc/net is read while sockets come and go, and the kernel may skip a line that moved
    // during the read: one more try before giving up
    const peer = meta.inbound.port;
    let owner = await findSocket(network, host, port, this.#proc, peer);
    owner ??= await findSocket(network, host, port, this.#proc, peer);
    let found = owner && (await findProcessOfInode(owner.inode, owner.uid, this.#proc));
    if (owner && !found) found = await findProcessOfInode(owner.inode, owner.uid, this.#proc);
    const info = found ?? (owner ? { name: '', path: '', uid: owner.uid, pid: 0 } : null);
    const key = keyOf(meta);
    this.#recent.delete(key);
    this.#recent.set(key, { info, at: Date.now() });
    if (this.#recent.size > PROCESS_CACHE_SIZE) this.#recent.delete(this.#recent.keys().next().value!);
    return info;
  }

  #record(meta: Metadata, info: ProcessInfo | null): ProcessInfo | undefined {
    this.#byMeta.set(meta, info);
    recordProcess(meta, info ?? undefined);
    return info ?? undefined;
  }
}

function keyOf(meta: Metadata): string {
  return `${meta.network} ${meta.source.host} ${meta.source.port}`;
}

const processes = new WeakMap<Metadata, ProcessInfo>();

function recordProcess(meta: Metadata, info: ProcessInfo | undefined): void {
  if (info) processes.set(meta, info);
}

/** The process found for a connection, if a lookup ran (for the connection views). */
export function processOf(meta: Metadata): ProcessInfo | undefined {
  return processes.get(meta);
}
