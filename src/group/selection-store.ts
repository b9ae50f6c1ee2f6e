/**
 * The one store of select-group choices in a process: groups read their current member from it,
 * the control plane writes it, and it outlives generations, so a choice survives a reload when
 * its group and member still exist. A cluster's primary holds one too; each worker's host holds
 * the copy the primary keeps in step.
 */
export class SelectionStore {
  readonly #chosen = new Map<string, string>();

  /** the member chosen for `group`, if one was */
  get(group: string): string | undefined {
    return this.#chosen.get(group);
  }

  set(group: string, member: string): void {
    this.#chosen.set(group, member);
  }

  delete(group: string): void {
    this.#chosen.delete(group);
  }

  /** every choice, as [group, member] pairs */
  entries(): [string, string][] {
    return [...this.#chosen];
  }

  /** Drops the choices `valid` refuses (a group or member that no longer exists after a reload). */
  prune(valid: (group: string, member: string) => boolean): void {
    for (const [g, m] of [...this.#chosen]) if (!valid(g, m)) this.#chosen.delete(g);
  }
}
