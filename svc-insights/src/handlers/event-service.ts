import { InvalidArgumentError, PageTokenCodec, serverStream, unary, type ServiceRegistration } from "@apgms/common";
import {
  EventServiceService,
  type EventFilter as ProtoFilter,
  type EventServiceServer,
  type ExportEventsRequest,
  type ExportEventsResponse,
  type IngestEventsRequest,
  type IngestEventsResponse,
  type ListEventsRequest,
  type ListEventsResponse,
} from "@apgms/proto/apgms/insights/v1/event";
import { newestEvents, oldestEvents, type EventFilter } from "../db/events.js";
import { ingestEvents } from "../db/ingest.js";
import { validateBatch, type EventColumns } from "../domain/event-batch.js";
import { eventPages } from "../domain/event-pages.js";
import { DEFAULT_DIMENSIONS } from "../domain/limits.js";
import { optionalEventName } from "../domain/query-input.js";
import { eventToProto } from "./event-to-proto.js";
import { isDeadlock, queryAs, queryError, tenantIdOf, type HandlerDeps } from "./scope.js";
import type { TenantQuery } from "../db/sql.js";

const EXPORT_BATCH = 500;

function eventFilter(f: ProtoFilter | undefined): EventFilter {
  const filter: EventFilter = { name: optionalEventName("filter.name", f?.name ?? "") };
  if (f?.startTime) filter.start = f.startTime.getTime();
  if (f?.endTime) filter.end = f.endTime.getTime();
  if (filter.start !== undefined && filter.end !== undefined && filter.end <= filter.start) throw new InvalidArgumentError("filter.end_time", "must be after filter.start_time");
  return filter;
}

/** The batch's statement, once more after a deadlock (none is expected: ingest_events() takes its locks in key order). */
async function ingestWithRetry(q: TenantQuery, tenantId: string, columns: EventColumns): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ingestEvents(q, tenantId, columns, DEFAULT_DIMENSIONS);
    } catch (err) {
      if (!isDeadlock(err) || attempt >= 3) throw err;
    }
  }
}

export function eventService(deps: HandlerDeps): ServiceRegistration {
  const codec = new PageTokenCodec(deps.config.PAGE_TOKEN_SECRET);
  const implementation: EventServiceServer = {
    ingestEvents: unary<IngestEventsRequest, IngestEventsResponse>(deps.logger, "IngestEvents", async (req, ctx) => {
      const tenantId = tenantIdOf(ctx);
      const { columns, repeated, rejected } = validateBatch(req.events, Date.now());
      const stored = await ingestWithRetry(queryAs(deps.writer, tenantId), tenantId, columns);
      if (stored > 0) await deps.cache.invalidate(tenantId);
      return { accepted: stored, duplicates: repeated + columns.ids.length - stored, rejected };
    }),

    listEvents: unary<ListEventsRequest, ListEventsResponse>(deps.logger, "ListEvents", async (req, ctx) => {
      const tenantId = tenantIdOf(ctx);
      const filter = eventFilter(req.filter);
      const pages = eventPages(codec, tenantId, filter);
      const page = pages.read(req.page);
      const rows = await newestEvents(queryAs(deps.reader, tenantId), tenantId, filter, page.after, page.size + 1).catch((err: unknown) => {
        throw queryError(err, deps.config.QUERY_TIMEOUT_MS);
      });
      const items = rows.slice(0, page.size);
      const last = items[items.length - 1];
      return { events: items.map(eventToProto), page: pages.next(rows.length > page.size && last ? { t: last.occurredAt, id: last.id } : undefined) };
    }),

    exportEvents: serverStream<ExportEventsRequest, ExportEventsResponse>(deps.logger, "ExportEvents", async (req, ctx, write) => {
      const tenantId = tenantIdOf(ctx);
      const filter = eventFilter(req.filter);
      const q = queryAs(deps.reader, tenantId);
      let after: { t: number; id: string } | undefined;
      for (;;) {
        const rows = await oldestEvents(q, tenantId, filter, after, EXPORT_BATCH);
        if (rows.length === 0) return;
        await write({ events: rows.map(eventToProto) });
        const last = rows[rows.length - 1]!;
        after = { t: last.occurredAt, id: last.id };
        if (rows.length < EXPORT_BATCH) return;
      }
    }),
  };
  return { name: "apgms.insights.v1.EventService", definition: EventServiceService, implementation };
}
