import { canonicalJson, InvalidArgumentError, unary, type ServiceRegistration } from "@apgms/common";
import {
  AnalyticsServiceService,
  BreakdownResponse,
  DataSource,
  FunnelResponse,
  RetentionResponse,
  TimeSeriesResponse,
  type AnalyticsServiceServer,
  type ListDimensionsRequest,
  type ListDimensionsResponse,
  type SetDimensionsRequest,
  type SetDimensionsResponse,
} from "@apgms/proto/apgms/insights/v1/analytics";
import type { AnswerCodec } from "../cache.js";
import { rawBreakdownSql, readBreakdown, rollupBreakdownSql } from "../db/breakdown.js";
import { readDimensions, writeDimensions } from "../db/dimensions.js";
import { funnelSql, readFunnel } from "../db/funnel.js";
import { readRetention, retentionSql } from "../db/retention.js";
import type { TenantQuery } from "../db/sql.js";
import { rawSeriesSql, readSeries, rollupSeriesSql } from "../db/time-series.js";
import { breakdownFromRollups, breakdownQuery, checkRawBreakdown } from "../domain/breakdown-input.js";
import { funnelQuery } from "../domain/funnel-input.js";
import { MAX_DIMENSIONS } from "../domain/limits.js";
import { attributeKey } from "../domain/query-input.js";
import { retentionQuery } from "../domain/retention-input.js";
import { checkRawRange, servedByRollups, timeSeriesQuery } from "../domain/time-series-input.js";
import { breakdownToProto, funnelBreakdowns, funnelSteps, retentionToProto, seriesToProto } from "./analytics-to-proto.js";
import { queryAs, queryError, tenantIdOf, type HandlerDeps } from "./scope.js";

export function analyticsService(deps: HandlerDeps): ServiceRegistration {
  /**
   * An analytics RPC: validate, then answer from the cache or, on a miss, from
   * Postgres as the tenant. `question` is the validated query: two requests
   * that validate alike share an answer.
   */
  function answered<Req, Query extends object, Res>(method: string, codec: AnswerCodec<Res>, validate: (req: Req) => Query, answer: (q: TenantQuery, tenantId: string, query: Query) => Promise<Res>) {
    return unary<Req, Res>(deps.logger, method, async (req, ctx) => {
      const tenantId = tenantIdOf(ctx);
      const query = validate(req);
      const q = queryAs(deps.reader, tenantId);
      return deps.cache.get(tenantId, canonicalJson({ method, query }), codec, () =>
        answer(q, tenantId, query).catch((err: unknown) => {
          throw queryError(err, deps.config.QUERY_TIMEOUT_MS);
        }),
      );
    });
  }

  async function dimensionSet(q: TenantQuery, tenantId: string): Promise<Set<string>> {
    return new Set((await readDimensions(q, tenantId)).keys);
  }

  const implementation: AnalyticsServiceServer = {
    timeSeries: answered("TimeSeries", TimeSeriesResponse, timeSeriesQuery, async (q, tenantId, query) => {
      const rollup = servedByRollups(query, await dimensionSet(q, tenantId));
      if (!rollup) checkRawRange(query);
      const rows = await readSeries(q, rollup ? rollupSeriesSql(query, tenantId) : rawSeriesSql(query, tenantId));
      return { ...seriesToProto(rows, Boolean(query.split)), source: rollup ? DataSource.DATA_SOURCE_ROLLUP : DataSource.DATA_SOURCE_RAW };
    }),

    breakdown: answered("Breakdown", BreakdownResponse, breakdownQuery, async (q, tenantId, query) => {
      const rollup = breakdownFromRollups(query, await dimensionSet(q, tenantId));
      if (!rollup) checkRawBreakdown(query);
      const rows = await readBreakdown(q, rollup ? rollupBreakdownSql(tenantId, query) : rawBreakdownSql(tenantId, query));
      return { rows: breakdownToProto(rows), source: rollup ? DataSource.DATA_SOURCE_ROLLUP : DataSource.DATA_SOURCE_RAW };
    }),

    funnel: answered("Funnel", FunnelResponse, funnelQuery, async (q, tenantId, query) => {
      const rows = await readFunnel(q, funnelSql(tenantId, query));
      const overall = rows.find((r) => r.overall)!;
      return {
        steps: funnelSteps(query.steps, overall.counts),
        breakdowns: query.breakdown ? funnelBreakdowns(query.steps, rows, query.breakdown.limit) : [],
        source: DataSource.DATA_SOURCE_RAW,
      };
    }),

    retention: answered("Retention", RetentionResponse, retentionQuery, async (q, tenantId, query) => {
      const rows = await readRetention(q, retentionSql(tenantId, query));
      return { ...retentionToProto(rows), source: DataSource.DATA_SOURCE_ROLLUP };
    }),

    listDimensions: unary<ListDimensionsRequest, ListDimensionsResponse>(deps.logger, "ListDimensions", async (_req, ctx) => {
      const tenantId = tenantIdOf(ctx);
      return readDimensions(queryAs(deps.reader, tenantId), tenantId);
    }),

    setDimensions: unary<SetDimensionsRequest, SetDimensionsResponse>(deps.logger, "SetDimensions", async (req, ctx) => {
      const tenantId = tenantIdOf(ctx);
      if (req.keys.length > MAX_DIMENSIONS) throw new InvalidArgumentError("keys", `must hold at most ${MAX_DIMENSIONS} keys`);
      const keys = req.keys.map((k, i) => attributeKey(`keys[${i}]`, k));
      if (new Set(keys).size !== keys.length) throw new InvalidArgumentError("keys", "must all be different");
      const result = await writeDimensions(queryAs(deps.writer, tenantId), tenantId, keys);
      await deps.cache.invalidate(tenantId);
      return result;
    }),
  };
  return { name: "apgms.insights.v1.AnalyticsService", definition: AnalyticsServiceService, implementation };
}
