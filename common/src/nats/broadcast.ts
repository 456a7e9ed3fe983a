import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";
import { connectNats } from "./connect.js";

export interface BroadcastOptions<T> {
  url: string;
  /** The connection's name (the process, e.g. "bff"). */
  name: string;
  /** Every instance publishing and subscribing on this subject hears every other. */
  subject: string;
  logger: Logger;
  /** Checks a received body; a message it throws on is dropped and logged. */
  parse: (body: unknown) => T;
  /** Called for every message another instance published (never for this instance's own). */
  onMessage: (message: T) => void;
}

export interface Broadcast<T> {
  /** Fire and forget: while NATS is unreachable the message is dropped (the first connection) or buffered (a reconnect). */
  publish(message: T): void;
  /** Resolves once connected and subscribed (NATS may come up after this process). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

interface Envelope {
  origin: string;
  body: unknown;
}

/** A subject token from a prefix: letters, digits, `_` and `-` only (a run's or environment's prefix). */
export function subjectToken(prefix: string): string {
  const token = prefix.replace(/[^A-Za-z0-9_-]/g, "_");
  if (!token) throw new Error("NATS subject prefix must not be empty");
  return token;
}

/**
 * Fan-out between the instances of one process kind over NATS core pub/sub:
 * at-most-once, no persistence, so only for messages whose loss is bounded
 * elsewhere (cache invalidation, where a lost message costs the cache's TTL).
 * The connection is made in the background and retried forever, so a process
 * starts and serves while NATS is down.
 */
export function createBroadcast<T>(options: BroadcastOptions<T>): Broadcast<T> {
  const { url, name, subject, logger, parse, onMessage } = options;
  const origin = randomUUID();
  const encoder = new TextEncoder();
  let nc: NatsConnection | undefined;
  let closed = false;

  const connected = connectNats({ url, name, waitOnFirstConnect: true }).then(async (conn) => {
    if (closed) {
      await conn.close();
      return;
    }
    nc = conn;
    conn.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return logger.warn({ err, subject }, "broadcast subscription error");
        try {
          const envelope = msg.json<Envelope>();
          if (envelope.origin === origin) return;
          onMessage(parse(envelope.body));
        } catch (e) {
          logger.warn({ err: e, subject }, "broadcast message dropped");
        }
      },
    });
    await conn.flush();
    logger.info({ subject }, "broadcast subscribed");
    void (async () => {
      for await (const s of conn.status()) {
        if (s.type === "disconnect") logger.warn({ subject }, "NATS disconnected; broadcasts wait for the reconnect");
        else if (s.type === "reconnect") logger.info({ subject }, "NATS reconnected");
      }
    })().catch(() => {});
  });
  connected.catch((err: unknown) => logger.error({ err, subject }, "NATS connection failed"));

  return {
    publish(message) {
      if (!nc || nc.isClosed()) {
        logger.warn({ subject }, "NATS not connected: broadcast dropped");
        return;
      }
      nc.publish(subject, encoder.encode(JSON.stringify({ origin, body: message } satisfies Envelope)));
    },
    ready: () => connected,
    async close() {
      closed = true;
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
    },
  };
}
