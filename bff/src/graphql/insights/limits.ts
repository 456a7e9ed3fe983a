// The edge's own limits on insights ingestion (svc-insights' are in its proto
// comments: 5,000 events a call, 50 attributes an event, ...). Documented in
// docs/api.md#insights.

/** Events one ingestEvents mutation takes: GraphQL is for small batches. */
export const GRAPHQL_MAX_EVENTS = 100;

/** Events one POST /v1/events takes: svc-insights' batch limit. */
export const BULK_MAX_EVENTS = 5_000;

/** Rate-limit points: one per this many events ingested (plus the call's own). */
export const EVENTS_PER_POINT = 10;
