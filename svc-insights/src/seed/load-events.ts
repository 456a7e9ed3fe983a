// Loads the demo events through the ingestion path itself: each batch of
// 5,000 is validated by validateBatch() and stored by insights.ingest_events(),
// as IngestEvents does, with several batches in flight. Nothing is stored
// twice: ids are deterministic and a stored id is a duplicate.
import type { TenantReader } from "@apgms/common";
import type { AnswerCache } from "../cache.js";
import { ingestEvents } from "../db/ingest.js";
import { validateBatch } from "../domain/event-batch.js";
import { DEFAULT_DIMENSIONS, MAX_BATCH_EVENTS } from "../domain/limits.js";
import { isDeadlock, queryAs } from "../handlers/scope.js";
import { demoEventBatches, demoEventId, type DemoPlan } from "./demo-events.js";

export interface LoadOptions {
  /** As the service's role. */
  writer: TenantReader;
  tenantId: string;
  plan: DemoPlan;
  /** Marks the tenant's cached answers stale after each batch that stored events. */
  cache?: AnswerCache;
  batchSize?: number;
  /** Batches in flight (default 3: on two cores Postgres has the rest). */
  inFlight?: number;
  progress?(sent: number, total: number): void;
}

export interface LoadResult {
  /** Events generated and sent to ingestion. */
  sent: number;
  /** Of those, stored now (the rest were there already). */
  stored: number;
  /** True when every event was there already and nothing was sent. */
  complete: boolean;
  ms: number;
}

/** Every demo id below `total` already stored: one index range count, so a second run costs nothing. */
async function alreadyLoaded(writer: TenantReader, tenantId: string, total: number): Promise<boolean> {
  const [row] = await writer.query<{ n: number }>(tenantId, `SELECT count(*)::float8 AS n FROM insights.events WHERE tenant_id = $1::uuid AND id >= $2 AND id < $3`, [
    tenantId,
    demoEventId(0),
    demoEventId(total),
  ]);
  return row!.n === total;
}

export async function loadDemoEvents(options: LoadOptions): Promise<LoadResult> {
  const { writer, tenantId, plan, cache, batchSize = MAX_BATCH_EVENTS, inFlight = 3, progress = () => {} } = options;
  const t0 = Date.now();
  if (await alreadyLoaded(writer, tenantId, plan.total)) return { sent: 0, stored: 0, complete: true, ms: Date.now() - t0 };
  const q = queryAs(writer, tenantId);
  let sent = 0;
  let stored = 0;
  const running = new Set<Promise<void>>();
  const store = async (events: Parameters<typeof validateBatch>[0]) => {
    const { columns, rejected } = validateBatch(events, Date.now());
    if (rejected.length > 0) throw new Error(`demo event ${rejected[0]!.id} rejected: ${rejected[0]!.field} ${rejected[0]!.reason}`);
    for (let attempt = 1; ; attempt++) {
      try {
        const n = await ingestEvents(q, tenantId, columns, DEFAULT_DIMENSIONS);
        stored += n;
        if (n > 0) await cache?.invalidate(tenantId);
        break;
      } catch (err) {
        if (!isDeadlock(err) || attempt >= 3) throw err;
      }
    }
    sent += events.length;
    progress(sent, plan.total);
  };
  let failure: unknown;
  for (const batch of demoEventBatches(plan, batchSize)) {
    if (failure) break;
    const p: Promise<void> = store(batch).then(
      () => void running.delete(p),
      (err: unknown) => {
        failure ??= err;
        running.delete(p);
      },
    );
    running.add(p);
    if (running.size >= inFlight) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure;
  return { sent, stored, complete: false, ms: Date.now() - t0 };
}
