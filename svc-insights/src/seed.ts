// Seeds the demo tenant's insights (a development convenience: `make dev` runs
// it after its banner, in the background; `make seed-insights` on demand):
// 30 days of the activation funnel, offer.viewed → offer.clicked →
// offer.redeemed, `--events N` of them (default 1,000,000), through the
// ingestion path, with progress, the time taken and the rate. Idempotent:
// the events' ids are fixed, a second run finds them all and stores nothing.
import { readFileSync } from "node:fs";
import path from "node:path";
import { env, loadConfig, TenantReader } from "@apgms/common";
import { z } from "zod";
import { connectAnswerCache } from "./cache.js";
import { demoCatalog } from "./seed/demo-catalog.js";
import { MAX_DEMO_EVENTS } from "./seed/demo-events.js";
import { loadDemoEvents } from "./seed/load-events.js";

const seedSchema = z.object({
  /** As apgms_insights_app, like the service. */
  DATABASE_URL: env.url(),
  /** As apgms_billing_app: the demo campaigns' and offers' ids (optional; stand-in names without it). */
  BILLING_DATABASE_URL: z.string().url().optional(),
  DEMO_TENANT_ID: z.string().uuid().optional(),
  DEMO_TENANT_FILE: z.string().min(1).default(".dev/demo-tenant-id"),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  REDIS_KEY_PREFIX: z.string().default("apgms:"),
  READ_CACHE_ENABLED: env.bool(true),
  READ_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Batches of 5,000 in flight. */
  SEED_IN_FLIGHT: z.coerce.number().int().min(1).max(16).default(3),
});

export const DEMO_DAYS = 30;

function demoTenantId(config: z.infer<typeof seedSchema>): string {
  if (config.DEMO_TENANT_ID) return config.DEMO_TENANT_ID;
  const file = path.resolve(config.DEMO_TENANT_FILE);
  const id = readFileSync(file, "utf8").trim();
  if (!z.string().uuid().safeParse(id).success) throw new Error(`${file} does not hold a tenant id; run svc-identity's seed first`);
  return id;
}

function eventsFlag(argv: readonly string[]): number {
  const i = argv.indexOf("--events");
  if (i < 0) return 1_000_000;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0 || n > MAX_DEMO_EVENTS) throw new Error(`--events needs a whole number from 0 to ${MAX_DEMO_EVENTS}`);
  return n;
}

const fmt = (n: number) => n.toLocaleString("en-US");

async function main(): Promise<void> {
  const total = eventsFlag(process.argv);
  const config = loadConfig(seedSchema);
  const tenantId = demoTenantId(config);
  const catalog = await demoCatalog(config.BILLING_DATABASE_URL, tenantId, DEMO_DAYS);
  process.stdout.write(
    `events: ${fmt(total)} over ${DEMO_DAYS} days, ${catalog.offers.length} offers (${catalog.from === "billing" ? "billing's demo catalog" : `stand-in names: ${catalog.note}`})\n`,
  );
  const writer = new TenantReader({ databaseUrl: config.DATABASE_URL, max: config.SEED_IN_FLIGHT });
  const cache = connectAnswerCache(config);
  let shown = 0;
  try {
    const result = await loadDemoEvents({
      writer,
      tenantId,
      cache: cache.cache,
      inFlight: config.SEED_IN_FLIGHT,
      plan: { total, end: Date.now(), days: DEMO_DAYS, offers: catalog.offers },
      progress(sent) {
        // About every 5%.
        if (sent < total && sent - shown < total / 20) return;
        shown = sent;
        process.stdout.write(`events ${fmt(sent)}/${fmt(total)} (${Math.round((sent * 100) / Math.max(total, 1))}%)\n`);
      },
    });
    const seconds = result.ms / 1000;
    process.stdout.write(
      result.complete
        ? `events: the demo tenant has all ${fmt(total)} already (checked in ${seconds.toFixed(1)} s)\n`
        : `events: ${fmt(result.sent)} sent, ${fmt(result.stored)} new, in ${seconds.toFixed(1)} s (${fmt(Math.round(result.sent / Math.max(seconds, 0.001)))} events/s)\n`,
    );
  } finally {
    await cache.close();
    await writer.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`svc-insights seed failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
