import type { GraphQLContext } from "../../context.js";
import { badInput } from "../../errors.js";
import { requireAction } from "../../permissions.js";
import { GRAPHQL_MAX_EVENTS } from "../limits.js";
import type { AttributeMap } from "../scalars.js";
import { attributesToProto, ingestReport } from "../to-graphql.js";

export interface EventInput {
  id: string;
  name: string;
  occurredAt: Date;
  subjectId: string;
  attributes?: AttributeMap | null;
}

export const mutationResolvers = {
  /** Small batches; the same report as POST /v1/events, which takes up to 5,000 events a call. */
  ingestEvents: async (_: unknown, { events }: { events: EventInput[] }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "events:write");
    if (events.length === 0) throw badInput("events", "give at least one event");
    if (events.length > GRAPHQL_MAX_EVENTS) {
      throw badInput("events", `at most ${GRAPHQL_MAX_EVENTS} events per call (got ${events.length}); send bulk to POST /v1/events`);
    }
    const res = await ctx.insights.events.ingestEvents({
      events: events.map((e) => ({ id: e.id, name: e.name, occurTime: e.occurredAt, subjectId: e.subjectId, attributes: attributesToProto(e.attributes), receiveTime: undefined })),
    });
    return ingestReport(res);
  },

  setInsightsDimensions: (_: unknown, { keys }: { keys: string[] }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "insights:manage");
    return ctx.insights.analytics.setDimensions({ keys });
  },
};
