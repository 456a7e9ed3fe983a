// Issue 9's scenarios of `make bench`, on a database and an svc-insights of their own:
// - ingestion: events/s through gRPC (IngestEvents, batches of 1,000 events of 5
//   attributes, as many calls in flight as the service's ingestion pool), beside the
//   same rows (events and their attributes) loaded by COPY through pg in the same run;
// - a 30-day hourly time series over one million events: warm (the same question again:
//   the answer cache) and cold (a new question each time: the rollups), p50/p99 of
//   sequential calls, beside an empty call (the gRPC health check) on the same
//   connection: the floor of any call on this machine.
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { cpuMicros, freePort, onCleanup, require, root, start } from "./harness.mjs";

export const INSIGHTS = "insights: ingestion (gRPC vs COPY) and a 30-day hourly time series over 1,000,000 events";

const BATCH = 1_000;
const NAMES = [
  ["offer.viewed", 0.7],
  ["offer.clicked", 0.2],
  ["offer.redeemed", 0.1],
];
const CHANNELS = ["email", "push", "web", "sms"];
const COUNTRIES = ["DE", "FR", "NL", "US", "GB", "ES", "IT", "PL", "SE", "IN"];
const DAY_MS = 86_400_000;

/**
 * A deterministic-enough generator of activation events; `timeOf()` gives each one's time.
 * Events arrive about in time order, as a live stream (or a replay of history) does: a batch
 * then rolls up into a few 15-minute buckets, not into one per event.
 */
function eventMaker(timeOf) {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  return (id) => {
    const r = rand();
    const name = r < NAMES[0][1] ? NAMES[0][0] : r < NAMES[0][1] + NAMES[1][1] ? NAMES[1][0] : NAMES[2][0];
    return {
      id,
      name,
      occurTime: new Date(timeOf(rand)),
      subjectId: `s-${Math.floor(rand() * 50_000)}`,
      attributes: {
        campaign: { stringValue: `campaign-${Math.floor(rand() * 8)}` },
        offer: { stringValue: `offer-${Math.floor(rand() * 20)}` },
        channel: { stringValue: pick(CHANNELS) },
        country: { stringValue: pick(COUNTRIES) },
        amount: { numberValue: Math.floor(rand() * 10_000) / 100 },
      },
    };
  };
}

const copyText = (v) => String(v).replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n");

/** One batch's rows as COPY text: events, then attributes (the rows IngestEvents stores, without rollups). */
function copyRows(tenantId, events) {
  let ev = "";
  let at = "";
  for (const e of events) {
    ev += `${tenantId}\t${copyText(e.id)}\t${copyText(e.name)}\t${e.occurTime.toISOString()}\t${copyText(e.subjectId)}\n`;
    for (const [key, v] of Object.entries(e.attributes)) {
      at +=
        v.stringValue !== undefined
          ? `${tenantId}\t${copyText(e.id)}\t${key}\tstring\t${copyText(v.stringValue)}\t\\N\t\\N\n`
          : `${tenantId}\t${copyText(e.id)}\t${key}\tnumber\t\\N\t${v.numberValue}\t\\N\n`;
    }
  }
  return { ev, at };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function benchInsights({ rounds, seconds }) {
  const { createTestDatabase } = require(path.join(root, "common/dist/src/testing/database.js"));
  const { deployMigrations } = require(path.join(root, "common/dist/src/migrate/index.js"));
  const { connect } = require(path.join(root, "common/dist/src/grpc/client.js"));
  const { createServiceTokenMinter } = require(path.join(root, "common/dist/src/service-token.js"));
  const { generateServiceKeyPair, parseSigningKey } = require(path.join(root, "common/dist/src/service-token-keys.js"));
  const { EventServiceClient } = require(path.join(root, "proto/dist/apgms/insights/v1/event.js"));
  const { AnalyticsServiceClient, Granularity, Metric } = require(path.join(root, "proto/dist/apgms/insights/v1/analytics.js"));
  const { Pool } = require("pg");
  const { Metadata } = require("@grpc/grpc-js");
  const { from: copyFrom } = require("pg-copy-streams");

  const db = await createTestDatabase({ prefix: "bench_insights" });
  onCleanup(() => db.drop());
  await deployMigrations({ databaseUrl: db.url, schema: "insights", migrationsDir: path.join(root, "svc-insights/prisma/migrations") });
  const keys = generateServiceKeyPair();
  const grpcPort = String(await freePort());
  const INGEST_POOL = 4;
  const service = start("svc-insights", path.join(root, "svc-insights/dist/src/main.js"), {
    DATABASE_URL: db.urlAs("apgms_insights_app"),
    GRPC_PORT: grpcPort,
    LOG_LEVEL: "warn",
    INGEST_POOL_SIZE: String(INGEST_POOL),
    REDIS_KEY_PREFIX: `apgms-bench-${randomBytes(4).toString("hex")}:insights:`,
    SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeyPem,
    BILLING_EVENTS_ENABLED: "false",
    PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
  });
  const minter = createServiceTokenMinter({ key: parseSigningKey(keys.privateKeyPem), issuer: "bench" });
  const options = { timeoutMs: 120_000, credentials: minter.forAudience("svc-insights") };
  const address = `127.0.0.1:${grpcPort}`;
  const events = connect(EventServiceClient, address, options);
  const analytics = connect(AnalyticsServiceClient, address, { ...options, channel: events.raw.getChannel() });
  onCleanup(async () => events.raw.close());
  const as = (tenantId) => ({ context: { requestId: randomUUID(), tenantId, principal: { kind: "service", id: "bench" } } });
  for (let i = 0; ; i++) {
    try {
      await analytics.client.listDimensions({}, as(randomUUID()));
      break;
    } catch (err) {
      if (i > 100 || service.exitCode !== null) throw new Error(`svc-insights did not answer: ${err.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const owner = new Pool({ connectionString: db.url, max: INGEST_POOL });
  onCleanup(() => owner.end());

  const now = Date.now();
  // Live ingestion: events of the last minute. The million: 30 days walked forward, in order.
  const live = eventMaker((rand) => Date.now() - Math.floor(rand() * 60_000));
  let serial = 0;
  const batchOf = (size, make = live) => Array.from({ length: size }, () => make(`e-${serial++}`));

  /** `workers` loops of `step` for `seconds`; events/s and the service's CPU per event. */
  async function measure(step, workers) {
    const cpu0 = cpuMicros(service.pid);
    const until = Date.now() + seconds * 1000;
    let done = 0;
    const began = performance.now();
    await Promise.all(Array.from({ length: workers }, async () => {
      while (Date.now() < until) done += await step();
    }));
    const elapsed = (performance.now() - began) / 1000;
    return { rate: done / elapsed, serviceCpu: (cpuMicros(service.pid) - cpu0) / done };
  }

  const grpcTenant = randomUUID();
  const copyTenant = randomUUID();
  const viaGrpc = async () => {
    const batch = batchOf(BATCH);
    const res = await events.client.ingestEvents({ events: batch }, as(grpcTenant));
    if (res.accepted !== BATCH) throw new Error(`IngestEvents accepted ${res.accepted} of ${BATCH}: ${JSON.stringify(res.rejected.slice(0, 3))}`);
    return BATCH;
  };
  const viaCopy = async () => {
    const { ev, at } = copyRows(copyTenant, batchOf(BATCH));
    const client = await owner.connect();
    try {
      await client.query("BEGIN");
      await pipeline(Readable.from([ev]), client.query(copyFrom("COPY insights.events (tenant_id, id, name, occurred_at, subject_id) FROM STDIN")));
      await pipeline(Readable.from([at]), client.query(copyFrom("COPY insights.event_attributes (tenant_id, event_id, key, type, string_value, number_value, bool_value) FROM STDIN")));
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    return BATCH;
  };

  console.log(`insights: ${rounds} rounds x ${seconds} s, batches of ${BATCH} events of 5 attributes, ${INGEST_POOL} in flight`);
  await measure(viaCopy, INGEST_POOL); // warm-up
  await measure(viaGrpc, INGEST_POOL);
  const copyRates = [];
  const grpcRates = [];
  for (let round = 1; round <= rounds; round++) {
    const c = await measure(viaCopy, INGEST_POOL);
    const g = await measure(viaGrpc, INGEST_POOL);
    copyRates.push(c.rate);
    grpcRates.push(g.rate);
    console.log(`round ${round}  COPY ${c.rate.toFixed(0)} events/s   IngestEvents ${g.rate.toFixed(0)} events/s (${(g.rate / c.rate).toFixed(2)}x), svc-insights ${g.serviceCpu.toFixed(1)} µs CPU/event`);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ingestRatio = median(grpcRates) / median(copyRates);

  // One million events for one tenant, through IngestEvents in batches of 5,000.
  const tsTenant = randomUUID();
  const MILLION = 1_000_000;
  let walked = 0;
  const history = eventMaker((rand) => now - 30 * DAY_MS + Math.floor(((walked++ + rand()) * 30 * DAY_MS) / MILLION));
  const loadBegan = performance.now();
  let loaded = 0;
  await Promise.all(Array.from({ length: INGEST_POOL }, async () => {
    while (loaded < MILLION) {
      const upTo = (loaded += 5_000);
      const res = await events.client.ingestEvents({ events: batchOf(5_000, history) }, as(tsTenant));
      if (upTo % 100_000 === 0) console.log(`insights: ${upTo.toLocaleString("en")} events sent`);
      if (res.accepted !== 5_000) throw new Error(`IngestEvents accepted ${res.accepted} of 5000`);
    }
  }));
  const loadSeconds = (performance.now() - loadBegan) / 1000;
  console.log(`insights: ${loaded.toLocaleString("en")} events loaded through IngestEvents in ${loadSeconds.toFixed(1)} s (${(loaded / loadSeconds).toFixed(0)} events/s)`);
  await owner.query("ANALYZE insights.rollup_counts");

  const hourly = (endMs) => ({
    eventName: "offer.viewed",
    metric: Metric.METRIC_COUNT,
    granularity: Granularity.GRANULARITY_HOUR,
    startTime: new Date(endMs - 30 * DAY_MS),
    endTime: new Date(endMs),
    timeZone: "Europe/Berlin",
    sumAttribute: "",
    filters: [],
    splitBy: "",
    splitLimit: 0,
  });
  const end = Math.floor(now / 3_600_000) * 3_600_000 + 3_600_000;
  async function latencies(requestFor, count) {
    const ms = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const res = await analytics.client.timeSeries(requestFor(i), as(tsTenant));
      ms.push(performance.now() - t);
      if (!res.series[0] || res.series[0].values.length < 720) throw new Error(`a 30-day hourly series has ${res.series[0]?.values.length ?? 0} buckets`);
    }
    return ms.sort((a, b) => a - b);
  }
  // The floor: an empty call (the gRPC health check) on the same connection, as many times.
  const healthCheck = () =>
    new Promise((resolve, reject) =>
      events.raw.makeUnaryRequest("/grpc.health.v1.Health/Check", () => Buffer.alloc(0), (b) => b, {}, new Metadata(), { deadline: Date.now() + 10_000 }, (err) => (err ? reject(err) : resolve())),
    );
  async function floor(count) {
    const ms = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await healthCheck();
      ms.push(performance.now() - t);
    }
    return ms.sort((a, b) => a - b);
  }
  const CALLS = 1_000;
  const warm = [];
  const cold = [];
  const empty = [];
  // Cold: each call a new range (an hour earlier), so no answer is cached: the rollups are read.
  let shift = 0;
  for (let round = 1; round <= rounds; round++) {
    const c = await latencies(() => hourly(end - 3_600_000 * ++shift), CALLS);
    await analytics.client.timeSeries(hourly(end), as(tsTenant));
    const w = await latencies(() => hourly(end), CALLS);
    const e = await floor(CALLS);
    cold.push(...c);
    warm.push(...w);
    empty.push(...e);
    console.log(`round ${round}  30-day hourly series: cold p50 ${percentile(c, 50).toFixed(1)} ms p99 ${percentile(c, 99).toFixed(1)} ms, warm p50 ${percentile(w, 50).toFixed(2)} ms p99 ${percentile(w, 99).toFixed(2)} ms; empty call p50 ${percentile(e, 50).toFixed(2)} ms p99 ${percentile(e, 99).toFixed(2)} ms`);
  }
  cold.sort((a, b) => a - b);
  warm.sort((a, b) => a - b);
  empty.sort((a, b) => a - b);
  const verdict = (ok) => (ok ? "met" : "NOT met");
  console.log("");
  console.log(`ingestion, median of rounds: COPY ${median(copyRates).toFixed(0)} events/s, IngestEvents ${median(grpcRates).toFixed(0)} events/s`);
  console.log(`30-day hourly series over ${loaded.toLocaleString("en")} events (${rounds * CALLS} calls each): cold p50 ${percentile(cold, 50).toFixed(1)} ms p99 ${percentile(cold, 99).toFixed(1)} ms; warm p50 ${percentile(warm, 50).toFixed(2)} ms p99 ${percentile(warm, 99).toFixed(2)} ms`);
  console.log(`baseline: an empty gRPC call (health check) on the same connection: p50 ${percentile(empty, 50).toFixed(2)} ms p99 ${percentile(empty, 99).toFixed(2)} ms (warm p99 ${(percentile(warm, 99) / percentile(empty, 99)).toFixed(2)}x of it)`);
  console.log(`target: ingestion through gRPC at >= 0.50x COPY of the same rows: ${verdict(ingestRatio >= 0.5)} (${ingestRatio.toFixed(2)}x)`);
  console.log(`target: 30-day hourly series warm p99 < 5 ms: ${verdict(percentile(warm, 99) < 5)} (${percentile(warm, 99).toFixed(2)} ms)`);
  console.log(`target: 30-day hourly series cold p99 < 100 ms: ${verdict(percentile(cold, 99) < 100)} (${percentile(cold, 99).toFixed(1)} ms)`);
}
