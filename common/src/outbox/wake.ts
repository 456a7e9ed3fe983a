import type { NatsConnection } from "@nats-io/transport-node";
import { natsToken } from "../audit/stream.js";

/** Wake-ups of one burst of commits go out as one message (per instance). */
export const WAKE_COALESCE_MS = 2;

/**
 * `<prefix>._outbox.wake.<domain>`: core NATS, never stored. Its second token
 * is not a tenant id, so the domain's stream (`<prefix>.*.<domain>.>`) never
 * captures it.
 */
export function outboxWakeSubject(prefix: string, domain: string): string {
  return `${natsToken(prefix)}._outbox.wake.${domain}`;
}

/**
 * Tells the outbox relay that rows were committed. Writers call wake() after
 * the transaction that wrote them has committed: the relay of this instance
 * looks at once, and the leading relay of any other instance on the next
 * core NATS message (coalesced, so a burst of redemptions sends a few, not
 * thousands). A lost wake-up only delays publication to the relay's poll.
 *
 * Replaces LISTEN/NOTIFY: a NOTIFY takes a database-wide lock at commit, which
 * serialized every redemption's commit and halved their rate (docs/benchmarks.md).
 */
export class OutboxWake {
  private nc: NatsConnection | undefined;
  private scheduled = false;
  private readonly local = new Set<() => void>();

  constructor(readonly subject: string) {}

  /** Publishes from now on (the connection may come later than the first writes). */
  connect(nc: NatsConnection): void {
    this.nc = nc;
  }

  /** Calls `listener` on every wake() of this instance; returns the way to stop. */
  onWake(listener: () => void): () => void {
    this.local.add(listener);
    return () => this.local.delete(listener);
  }

  wake(): void {
    for (const listener of this.local) listener();
    if (this.scheduled || !this.nc) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      const nc = this.nc;
      if (!nc || nc.isClosed()) return;
      try {
        nc.publish(this.subject);
      } catch {
        // Disconnected: the relays find the rows on their next poll.
      }
    }, WAKE_COALESCE_MS).unref();
  }
}
