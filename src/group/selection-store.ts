import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The file format of a persisted store (ours: mihomo keeps its choices in bolt's cache.db). */
interface SelectedFile {
  readonly selected: Record<string, string>;
}

/**
 * The one store of select-group choices in a process: groups read their current member from it,
 * the control plane writes it, and it outlives generations, so a choice survives a reload when
 * its group and member still exist. A cluster's primary holds one too; each worker's host holds
 * the copy the primary keeps in step. With a file (profile.store-selected), choices survive
 * restarts: read once when attached, rewritten after each change (a temp file renamed over it,
 * so a crash leaves the old or the new file, never half of one).
 */
export class SelectionStore {
  readonly #chosen = new Map<string, string>();
  #file: string | undefined;
  /** the last write error, when the file could not be written (the choice still holds in memory) */
  lastError: Error | undefined;
  /** called on every failed write (the host logs it, once per interval) */
  onWriteError: ((err: Error, file: string) => void) | undefined;

  /** the file choices are kept in, when attached */
  get file(): string | undefined {
    return this.#file;
  }

  /**
   * Keeps choices in `file` from now on: choices already in it are read (a missing or unreadable
   * file reads as none; choices made in memory win), then it is written.
   */
  attach(file: string): void {
    if (this.#file === file) return;
    this.#file = file;
    for (const [g, m] of readSelected(file)) if (!this.#chosen.has(g)) this.#chosen.set(g, m);
    this.#save();
  }

  /** Stops writing the file (it is left as it is). */
  detach(): void {
    this.#file = undefined;
  }

  /** the member chosen for `group`, if one was */
  get(group: string): string | undefined {
    return this.#chosen.get(group);
  }

  set(group: string, member: string): void {
    if (this.#chosen.get(group) === member) return;
    this.#chosen.set(group, member);
    this.#save();
  }

  delete(group: string): void {
    if (this.#chosen.delete(group)) this.#save();
  }

  /** every choice, as [group, member] pairs */
  entries(): [string, string][] {
    return [...this.#chosen];
  }

  /** Drops the choices `valid` refuses (a group or member that no longer exists after a reload). */
  prune(valid: (group: string, member: string) => boolean): void {
    let changed = false;
    for (const [g, m] of [...this.#chosen]) {
      if (!valid(g, m)) {
        this.#chosen.delete(g);
        changed = true;
      }
    }
    if (changed) this.#save();
  }

  #save(): void {
    const file = this.#file;
    if (file === undefined) return;
    const body: SelectedFile = { selected: Object.fromEntries(this.#chosen) };
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, file);
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
      this.onWriteError?.(err as Error, file);
    }
  }
}

/** The choices in a selected.json; none when it is missing or not ours. */
function readSelected(file: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  const sel = (parsed as Partial<SelectedFile> | null)?.selected;
  if (typeof sel !== 'object' || sel === null) return [];
  return Object.entries(sel).filter((e): e is [string, string] => typeof e[1] === 'string');
}
