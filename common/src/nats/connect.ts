import { connect, type NatsConnection } from "@nats-io/transport-node";

export interface NatsConnectOptions {
  /** e.g. nats://127.0.0.1:4222; a comma-separated list is several servers of one cluster. */
  url: string;
  /** Shown by the server's monitoring pages: the process, e.g. "bff". */
  name: string;
  /**
   * Keep trying until the first connection succeeds instead of failing at once
   * (the promise then resolves only once connected). Either way a connection
   * that drops later reconnects forever.
   */
  waitOnFirstConnect?: boolean;
}

/** Connects to NATS, reconnecting forever after a drop (subscriptions are restored by the client). */
export function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const { url, name, waitOnFirstConnect = false } = options;
  return connect({
    servers: url.split(",").map((s) => s.trim()).filter(Boolean),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect,
  });
}

export type { NatsConnection };
