/**
 * Invalidations Redis did not confirm, kept until they can be replayed. Past
 * `max` keys it stops listing them and remembers instead that the whole
 * namespace must be invalidated.
 */
export class PendingInvalidations {
  private keys = new Set<string>();
  private everything = false;
  /** Taken by a replay that has not finished yet: still pending for readers. */
  private inFlight = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.keys.size + this.inFlight + (this.everything ? 1 : 0);
  }

  add(keys: readonly string[]): void {
    if (this.everything) return;
    for (const key of keys) this.keys.add(key);
    if (this.keys.size > this.max) {
      this.keys = new Set();
      this.everything = true;
    }
  }

  /** Hands the current work to a replay; `settle` ends it (`ok` false puts it back). */
  take(): { keys: string[]; everything: boolean; settle(ok: boolean): void } | undefined {
    if (this.keys.size === 0 && !this.everything) return undefined;
    const keys = [...this.keys];
    const everything = this.everything;
    const count = keys.length + (everything ? 1 : 0);
    this.keys = new Set();
    this.everything = false;
    this.inFlight += count;
    return {
      keys,
      everything,
      settle: (ok) => {
        this.inFlight -= count;
        if (ok) return;
        if (everything) this.everything = true;
        this.add(keys);
      },
    };
  }
}
