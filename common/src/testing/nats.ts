import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { natsToken } from "../audit/stream.js";
import { connectNats } from "../nats/connect.js";

export const TEST_NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/**
 * A NATS_PREFIX of its own for a test stack: the run's TEST_RUN_ID (set by
 * scripts/run-tests.sh), a label and a random part, so streams and subjects of
 * parallel runs and of the developer's own `make dev` never meet.
 */
export function testNatsPrefix(label: string): string {
  return natsToken(`${runNatsPrefix()}-${label}-${randomBytes(3).toString("hex")}`);
}

/** The run's own prefix (scripts/run-tests.sh exports it as NATS_PREFIX and deletes its streams at the end). */
export const runNatsPrefix = () => natsToken(`t-${process.env.TEST_RUN_ID ?? "local"}`);

/** Deletes every stream whose name starts with the prefix (a test stack's, or a whole run's, cleanup). */
export async function deleteTestStreams(prefix: string, url = TEST_NATS_URL): Promise<void> {
  const nc = await connectNats({ url, name: "test-cleanup" });
  try {
    const jsm = await jetstreamManager(nc);
    const token = natsToken(prefix);
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(token)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
}
