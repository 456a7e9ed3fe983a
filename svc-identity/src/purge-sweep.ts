import { asPlatform, type Logger } from "@apgms/common";
import type { PrismaClient } from "./generated/prisma/client.js";
import { writing, type IdentityCache } from "./cache.js";
import { purgeDeletedTenants } from "./db/tenants.js";

/**
 * Purges tenants past their retention window every `intervalSeconds`, a
 * batch at a time, until none is left. Runs in each replica (purging is safe
 * concurrently) until the worker's scheduled job takes it over.
 */
export function startPurgeSweep(prisma: PrismaClient, cache: IdentityCache, logger: Logger, intervalSeconds: number): () => void {
  if (intervalSeconds <= 0) return () => {};
  let running: Promise<void> | undefined;
  const sweep = async () => {
    for (;;) {
      const ids = await writing(cache, (changes) => asPlatform(prisma, (tx) => purgeDeletedTenants(tx, 100, changes)));
      if (ids.length) logger.info({ purgedTenantIds: ids }, "purged deleted tenants past their retention window");
      if (ids.length < 100) return;
    }
  };
  const timer = setInterval(() => {
    running ??= sweep()
      .catch((err: unknown) => logger.warn({ err }, "tenant purge sweep failed; retrying next interval"))
      .finally(() => (running = undefined));
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
