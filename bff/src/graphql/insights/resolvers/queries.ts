import type { Granularity, Metric, RetentionPeriod } from "@apgms/proto/apgms/insights/v1/analytics";
import type { GraphQLContext } from "../../context.js";
import { connection, pageRequest, type PageArgs } from "../../pagination.js";
import { requireAction } from "../../permissions.js";
import type { AttributePrimitive } from "../scalars.js";
import { attributeToProto } from "../to-graphql.js";

/** GraphQL's optional arguments: absent or null. */
type Opt<T> = T | null | undefined;

interface FilterArg {
  key: string;
  value: AttributePrimitive;
}

const filtersIn = (filters: Opt<FilterArg[]>) => (filters ?? []).map((f) => ({ key: f.key, value: attributeToProto(f.value) }));

interface Range {
  from: Date;
  to: Date;
}

export interface TimeSeriesArgs extends Range {
  eventName: string;
  metric: Metric;
  sumAttribute?: Opt<string>;
  granularity: Granularity;
  timeZone?: Opt<string>;
  filters?: Opt<FilterArg[]>;
  splitBy?: Opt<string>;
  splitLimit?: Opt<number>;
}

export interface BreakdownArgs extends Range {
  eventName?: Opt<string>;
  attribute: string;
  limit?: Opt<number>;
  filters?: Opt<FilterArg[]>;
}

export interface FunnelArgs extends Range {
  steps: string[];
  conversionWindowSeconds?: Opt<number>;
  breakdownBy?: Opt<string>;
  breakdownLimit?: Opt<number>;
}

export interface RetentionArgs extends Range {
  startEvent: string;
  returnEvent: string;
  period: RetentionPeriod;
  timeZone?: Opt<string>;
}

/** Every query reads the caller's tenant only (svc-insights takes the tenant from the service token); insights:read. */
export const queryResolvers = {
  events: async (_: unknown, args: PageArgs & { name?: Opt<string>; from?: Opt<Date>; to?: Opt<Date> }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "insights:read");
    const res = await ctx.insights.events.listEvents({
      page: pageRequest(args),
      filter: { name: args.name ?? "", startTime: args.from ?? undefined, endTime: args.to ?? undefined },
    });
    return connection(res.events, res.page);
  },

  timeSeries: (_: unknown, args: TimeSeriesArgs, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "insights:read");
    return ctx.insights.analytics.timeSeries({
      eventName: args.eventName,
      metric: args.metric,
      sumAttribute: args.sumAttribute ?? "",
      granularity: args.granularity,
      startTime: args.from,
      endTime: args.to,
      timeZone: args.timeZone ?? "",
      filters: filtersIn(args.filters),
      splitBy: args.splitBy ?? "",
      splitLimit: args.splitLimit ?? 0,
    });
  },

  breakdown: (_: unknown, args: BreakdownArgs, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "insights:read");
    return ctx.insights.analytics.breakdown({
      eventName: args.eventName ?? "",
      attribute: args.attribute,
      startTime: args.from,
      endTime: args.to,
      limit: args.limit ?? 0,
      filters: filtersIn(args.filters),
    });
  },

  funnel: (_: unknown, args: FunnelArgs, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "insights:read");
    return ctx.insights.analytics.funnel({
      steps: args.steps,
      startTime: args.from,
      endTime: args.to,
      conversionWindowSeconds: args.conversionWindowSeconds ?? 0,
      breakdownBy: args.breakdownBy ?? "",
      breakdownLimit: args.breakdownLimit ?? 0,
    });
  },

  retention: (_: unknown, args: RetentionArgs, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "insights:read");
    return ctx.insights.analytics.retention({
      startEvent: args.startEvent,
      returnEvent: args.returnEvent,
      period: args.period,
      startTime: args.from,
      endTime: args.to,
      timeZone: args.timeZone ?? "",
    });
  },

  insightsDimensions: (_: unknown, __: unknown, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "insights:read");
    return ctx.insights.analytics.listDimensions({});
  },
};
