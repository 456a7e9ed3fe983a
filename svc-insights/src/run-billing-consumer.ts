// The billing consumer as main runs it: in the background, so the gRPC service
// starts and answers without NATS; it begins once NATS answers, and starting
// again after a failure (JetStream not ready, the stream's API refused) with
// backoff. Its own NATS connection and pool, closed after it stops.
import type { Logger } from "@apgms/common";
import { connectNats, type NatsConnection } from "@apgms/common/nats/connect";
import { setTimeout as sleep } from "node:timers/promises";
import type { AnswerCache } from "./cache.js";
import { startBillingConsumer, type BillingConsumer } from "./billing-consumer.js";
import { SERVICE_NAME } from "./config.js";
import { transactionPool } from "./db/ingest-tenants.js";

export interface RunBillingConsumerOptions {
  natsUrl: string;
  prefix: string;
  /** As the service's role. */
  databaseUrl: string;
  cache: AnswerCache;
  logger: Logger;
}

/** Starts it in the background; `stop()` lets the batch in hand finish (its acks sent), then closes NATS and the pool. */
export function runBillingConsumer(options: RunBillingConsumerOptions): { stop(): Promise<void> } {
  const { natsUrl, prefix, databaseUrl, cache, logger } = options;
  const pool = transactionPool(databaseUrl, 2);
  const abort = new AbortController();
  let nc: NatsConnection | undefined;
  let consumer: BillingConsumer | undefined;

  const started = (async () => {
    const connection = await connectNats({ url: natsUrl, name: `${SERVICE_NAME}-billing-events`, waitOnFirstConnect: true });
    if (abort.signal.aborted) return void (await connection.close());
    nc = connection;
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      try {
        consumer = await startBillingConsumer({ nc, pool, cache, logger, prefix });
        logger.info({ prefix }, "billing events: consuming");
        return;
      } catch (err) {
        const delay = Math.min(500 * 2 ** attempt, 10_000);
        logger.error({ err, retryInMs: delay }, "billing events: could not start the consumer; retrying");
        await sleep(delay, undefined, { signal: abort.signal }).catch(() => {});
      }
    }
  })().catch((err: unknown) => logger.error({ err }, "billing events: NATS connection failed; not consuming"));

  return {
    async stop() {
      abort.abort();
      // Still waiting for NATS's first answer: nothing is in hand (the connection is closed if it comes).
      if (nc) {
        await started;
        await consumer?.stop();
        await nc.drain().catch(() => {});
      }
      await pool.end();
    },
  };
}
