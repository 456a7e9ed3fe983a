import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from "@nats-io/jetstream";
import { nanos, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";

export interface DurableStreamOptions {
  name: string;
  subjects: string[];
  /** How long an unconsumed message is kept (the consumer's owner may be down that long). */
  maxAgeMs: number;
  /** Messages with the same Nats-Msg-Id inside this window are stored once (default 2 min). */
  duplicateWindowMs?: number;
  /** "workqueue": a message is removed once acknowledged (a stream that is only a transport). */
  retention?: "workqueue" | "limits";
}

/**
 * Creates the stream, or brings an existing one to this configuration.
 * Idempotent, so the publisher and the consumer may both call it at start.
 * Only fields NATS 2.9 knows are sent (no metadata, no filter_subjects).
 */
export async function ensureStream(nc: NatsConnection, options: DurableStreamOptions): Promise<void> {
  const { name, subjects, maxAgeMs, duplicateWindowMs = 120_000, retention = "limits" } = options;
  const jsm = await jetstreamManager(nc);
  const config = {
    name,
    subjects,
    storage: StorageType.File,
    retention: retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    max_age: nanos(maxAgeMs),
    duplicate_window: nanos(duplicateWindowMs),
  };
  // Adding the same configuration twice is a no-op (two processes starting together);
  // an existing stream with another configuration is updated.
  if (await exists(() => jsm.streams.info(name))) await jsm.streams.update(name, config);
  else await jsm.streams.add(config);
}

const NOT_FOUND: readonly number[] = [JetStreamApiCodes.StreamNotFound, JetStreamApiCodes.ConsumerNotFound];

async function exists(info: () => Promise<unknown>): Promise<boolean> {
  try {
    await info();
    return true;
  } catch (err) {
    if (err instanceof JetStreamApiError && NOT_FOUND.includes(err.code)) return false;
    throw err;
  }
}

/** A durable consumer's configuration: its name is required. */
export type DurableConsumerConfig = Partial<ConsumerConfig> & Pick<ConsumerConfig, "ack_policy" | "deliver_policy"> & { durable_name: string };

/**
 * Creates the durable consumer, or brings an existing one to this
 * configuration (the fields NATS lets a consumer change: ack wait, max
 * deliveries, backoff, max ack pending, description). Idempotent, so every
 * replica may call it at start.
 */
export async function ensureConsumer(nc: NatsConnection, stream: string, config: DurableConsumerConfig): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const { durable_name: durable } = config;
  if (await exists(() => jsm.consumers.info(stream, durable))) {
    const { description, ack_wait, max_deliver, backoff, max_ack_pending } = config;
    const update = Object.fromEntries(Object.entries({ description, ack_wait, max_deliver, backoff, max_ack_pending }).filter(([, v]) => v !== undefined));
    await jsm.consumers.update(stream, durable, update);
  } else {
    await jsm.consumers.add(stream, config);
  }
}

/** Deletes a stream if it exists (tests clean up the streams of their run). */
export async function deleteStream(nc: NatsConnection, name: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  if (await exists(() => jsm.streams.info(name))) await jsm.streams.delete(name);
}

export interface PublishOnceOptions {
  /** The dedupe key (Nats-Msg-Id): a retry inside the stream's duplicate window is stored once. */
  msgId: string;
  /** Message headers besides Nats-Msg-Id. */
  headers?: MsgHdrs;
  /** Attempts before giving up (default 8), with doubling delays from `retryDelayMs` (default 250 ms, at most 5 s). */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * Publishes to a stream and waits for the stream's acknowledgement, retrying
 * with the same message id while NATS or the stream does not answer.
 */
export async function publishOnce(js: JetStreamClient, subject: string, data: Uint8Array, options: PublishOnceOptions): Promise<void> {
  const { msgId, headers, attempts = 8, retryDelayMs = 250 } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      await js.publish(subject, data, { msgID: msgId, ...(headers ? { headers } : {}) });
      return;
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryDelayMs * 2 ** (attempt - 1), 5_000)));
    }
  }
}

export { jetstream, jetstreamManager, type JetStreamClient, type JsMsg };

/** What a handler decides about one message. */
export type Disposition = "ack" | "retry" | "reject";

export interface DurableConsumerOptions {
  stream: string;
  /** The durable name: one per consuming service; its replicas share it (each message goes to one). */
  durable: string;
  logger: Logger;
  /** One message at a time: "ack" when done, "retry" to get it again after `retryDelayMs`, "reject" for one that can never succeed. A throw is a retry. */
  handle?(msg: JsMsg): Promise<Disposition>;
  /**
   * Or batches (up to `batchSize` messages, or what arrived within `batchWaitMs`): one disposition
   * per message, in order. A throw retries the whole batch.
   */
  handleBatch?(msgs: JsMsg[]): Promise<Disposition[]>;
  /** Default 100. */
  batchSize?: number;
  /** How long a partial batch waits for more (default 20 ms). */
  batchWaitMs?: number;
  /** An unacknowledged message is redelivered after this long (default 30 s). */
  ackWaitMs?: number;
  /** Delay of a retried message (default 1 s): a plain nak would redeliver at once. */
  retryDelayMs?: number;
  /** Messages delivered but not yet acknowledged, at most (default 256). */
  maxAckPending?: number;
}

export interface DurableConsumer {
  /** Stops pulling and waits for the messages in hand; unacknowledged ones are redelivered later. */
  stop(): Promise<void>;
}

/**
 * A durable pull consumer with explicit acks. Retry policy lives here, beside
 * the subscription: failures are redelivered after `retryDelayMs`, without a
 * delivery limit (nothing is dropped while the handler's dependency is down);
 * only a rejected message is terminated (and logged by the caller). Batches
 * are handled one after another, never two at once.
 */
export async function startDurableConsumer(nc: NatsConnection, options: DurableConsumerOptions): Promise<DurableConsumer> {
  const { stream, durable, logger, handle, handleBatch, ackWaitMs = 30_000, retryDelayMs = 1_000, maxAckPending = 256, batchWaitMs = 20 } = options;
  if (!handle && !handleBatch) throw new Error("startDurableConsumer needs handle or handleBatch");
  const batchSize = handleBatch ? Math.min(options.batchSize ?? 100, maxAckPending) : 1;
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: maxAckPending,
  };
  await ensureConsumer(nc, stream, config);
  const consumer = await jetstream(nc).consumers.get(stream, durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.min(maxAckPending, 100) });

  const run = async (batch: JsMsg[]): Promise<void> => {
    let dispositions: Disposition[];
    try {
      dispositions = handleBatch ? await handleBatch(batch) : [await handle!(batch[0]!)];
    } catch (err) {
      logger.warn({ err, stream, durable, seqs: batch.map((m) => m.seq) }, "message handler failed; retrying later");
      dispositions = [];
    }
    batch.forEach((msg, i) => {
      const d = dispositions[i] ?? "retry";
      if (d === "ack") msg.ack();
      else if (d === "retry") msg.nak(retryDelayMs);
      else msg.term();
    });
  };
  let buffer: JsMsg[] = [];
  let chain = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return chain;
    const batch = buffer;
    buffer = [];
    chain = chain.then(() => run(batch));
    return chain;
  };
  const loop = (async () => {
    for await (const msg of messages) {
      buffer.push(msg);
      if (buffer.length >= batchSize) await flush();
      else timer ??= setTimeout(() => void flush(), batchWaitMs);
    }
    await flush();
  })();
  return {
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
