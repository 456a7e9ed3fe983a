/**
 * The relay's waits: an idle wait ends early on a wake-up (notify()); every wait ends
 * early on interrupt() (the connection failing); after close() (stop) none
 * waits at all.
 */
export class Sleeper {
  private current?: { timer: NodeJS.Timeout; resolve(): void; wakeOnNotify: boolean };
  private closed = false;

  sleep(ms: number, { wakeOnNotify = false } = {}): Promise<void> {
    this.interrupt();
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.end(), ms);
      this.current = { timer, resolve, wakeOnNotify };
    });
  }

  notify(): void {
    if (this.current?.wakeOnNotify) this.end();
  }

  interrupt(): void {
    this.end();
  }

  close(): void {
    this.closed = true;
    this.end();
  }

  private end(): void {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    clearTimeout(current.timer);
    current.resolve();
  }
}

/** 250 ms doubling to 5 s (by default), by consecutive failures. */
export function backoffMs(failures: number, minMs: number, maxMs: number): number {
  return Math.min(minMs * 2 ** Math.min(failures, 30), maxMs);
}
