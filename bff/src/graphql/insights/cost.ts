import type { FieldWeights } from "../../limits/operation-cost.js";
import { EVENTS_PER_POINT, GRAPHQL_MAX_EVENTS } from "./limits.js";

/** Points of one analytics query (beyond its fields): each is a statement over rollups or bounded raw events. */
const ANALYTICS = 20;
/** A funnel reads raw events, step by step. */
const FUNNEL = 50;
/** Setting dimensions rolls every stored event of a new dimension up, while ingestion waits. */
const SET_DIMENSIONS = 1_000;

const splitSeries = (splitBy: unknown, splitLimit: unknown) => (typeof splitBy === "string" && splitBy !== "" ? (typeof splitLimit === "number" && splitLimit > 0 ? splitLimit : 5) : 1);

/**
 * Insights' fields whose work is more than their selection, for the rate
 * limit: an analytics query is a database statement (the cache answers
 * repeats, but the edge cannot know), a split time series one series per
 * value, a funnel a raw scan. ingestEvents is charged for its largest call
 * (list arguments are not seen here): 100 events, 1 point per 10.
 */
export const insightsWeights: FieldWeights = {
  "Query.timeSeries": ({ splitBy, splitLimit }) => ANALYTICS * splitSeries(splitBy, splitLimit),
  "Query.breakdown": () => ANALYTICS,
  "Query.funnel": () => FUNNEL,
  "Query.retention": () => ANALYTICS,
  "Mutation.ingestEvents": () => Math.ceil(GRAPHQL_MAX_EVENTS / EVENTS_PER_POINT),
  "Mutation.setInsightsDimensions": () => SET_DIMENSIONS,
};
