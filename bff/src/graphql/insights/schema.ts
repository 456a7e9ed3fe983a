/**
 * The insights part of the edge's GraphQL contract (svc-insights: events,
 * time series, breakdowns, funnels, retention, dimensions). Ranges are
 * `from`/`to` ([from, to)); proto field names map to these names by
 * field-names.ts. Bulk ingestion is POST /v1/events (http/events/), not
 * GraphQL: `ingestEvents` takes small batches.
 */
export const typeDefs = /* GraphQL */ `
  """
  One attribute value: a JSON string, a finite number or a boolean. The kind
  counts: the string "1" and the number 1 are different values.
  """
  scalar AttributeValue

  """
  An event's attributes: a JSON object of keys to strings, finite numbers and
  booleans, e.g. {"campaign": "summer", "price": 12.5, "member": true}. At most
  50 keys, each 1..64 characters: a letter or _, then letters, digits and _ . -;
  strings up to 1,000 characters.
  """
  scalar Attributes

  "A telemetry event as stored."
  type Event {
    "Chosen by the client; unique in the tenant."
    id: ID!
    "e.g. offer.viewed"
    name: String!
    occurredAt: DateTime!
    "Who or what did it: a user, a device, a customer reference."
    subjectId: String!
    attributes: Attributes!
    "When svc-insights stored it."
    receivedAt: DateTime!
  }

  type EventConnection {
    nodes: [Event!]!
    pageInfo: PageInfo!
  }

  enum Granularity {
    MINUTE
    HOUR
    DAY
    "ISO weeks: Monday 00:00 in the query's time zone."
    WEEK
  }

  enum Metric {
    "Number of events."
    COUNT
    "Sum of the numeric attribute sumAttribute (events that carry it as a number)."
    SUM
    "Distinct subjects (exact)."
    UNIQUE_SUBJECTS
  }

  "Where an answer was computed from: rollups kept as events arrive, or raw events (bounded ranges)."
  enum DataSource {
    ROLLUP
    RAW
  }

  "Events whose attribute key equals value (same kind and value)."
  input AttributeFilter {
    key: String!
    value: AttributeValue!
  }

  type TimePoint {
    "The bucket's start."
    startsAt: DateTime!
    value: Float!
  }

  type Series {
    "The split attribute's value; null without splitBy."
    splitValue: AttributeValue
    "Every bucket of the range, empty ones as 0, oldest first."
    points: [TimePoint!]!
  }

  type TimeSeries {
    "The whole buckets covered: from is the start of the bucket holding the asked from, to the end of the one holding the asked to."
    from: DateTime!
    to: DateTime!
    series: [Series!]!
    source: DataSource!
  }

  type BreakdownRow {
    value: AttributeValue!
    count: Int!
  }

  type Breakdown {
    "Most events first, then by value."
    rows: [BreakdownRow!]!
    source: DataSource!
  }

  type FunnelStep {
    eventName: String!
    "Subjects that reached this step."
    count: Int!
    "count / step 1's count (0 when nobody entered)."
    conversionRate: Float!
    "count / the previous step's count (1 for step 1 when anybody entered)."
    stepConversionRate: Float!
  }

  type FunnelBreakdown {
    "The entering event's value of breakdownBy; null: entries without the attribute."
    value: AttributeValue
    steps: [FunnelStep!]!
  }

  type Funnel {
    steps: [FunnelStep!]!
    "With breakdownBy: the top values' funnels, most entries first."
    breakdowns: [FunnelBreakdown!]!
    source: DataSource!
  }

  enum RetentionPeriod {
    DAY
    "ISO weeks, Monday first."
    WEEK
  }

  type Cohort {
    "The period's start."
    startsAt: DateTime!
    "Subjects whose first start event in the range fell in this period."
    size: Int!
    "returned[k - 1]: members with a return event k periods later, for every later period of the range."
    returned: [Int!]!
    "returned[i] / size."
    shares: [Float!]!
  }

  type Retention {
    from: DateTime!
    to: DateTime!
    "One per period of the range, oldest first (empty ones with size 0)."
    cohorts: [Cohort!]!
    source: DataSource!
  }

  "The attributes rolled up per value (fast filters, splits and breakdowns)."
  type InsightsDimensions {
    keys: [String!]!
    "True while the tenant has not chosen its own (campaign, channel, country, offer)."
    defaults: Boolean!
  }

  extend type Query {
    "Raw events, newest first (occurredAt, then id); name: only that name; [from, to) on occurredAt. insights:read."
    events(first: Int, after: String, name: String, from: DateTime, to: DateTime): EventConnection!
    """
    A metric of one event name per time bucket over [from, to) in timeZone (IANA, default UTC; DST handled).
    At most 1,500 buckets; MINUTE over at most 24 hours; at most 5 filters (all must hold); splitBy: one series
    per top value of that attribute (splitLimit 1..20, default 5). Rollups answer HOUR/DAY/WEEK counts (unfiltered,
    filtered by one dimension or split by one) and plain SUM/UNIQUE_SUBJECTS over up to 400 days; anything else
    reads raw events over at most 31 days. insights:read.
    """
    timeSeries(
      eventName: String!
      metric: Metric! = COUNT
      sumAttribute: String
      granularity: Granularity!
      from: DateTime!
      to: DateTime!
      timeZone: String
      filters: [AttributeFilter!]
      splitBy: String
      splitLimit: Int
    ): TimeSeries!
    """
    The top values of an attribute over [from, to), with event counts; eventName: only that name (default all).
    limit 1..100 (default 10); range up to 400 days for a dimension, 31 days with filters or another attribute. insights:read.
    """
    breakdown(eventName: String, attribute: String!, from: DateTime!, to: DateTime!, limit: Int, filters: [AttributeFilter!]): Breakdown!
    """
    Subjects that did the steps (2..10 distinct event names) in order: a subject enters with its first step-1 event
    in [from, to), and each next step must follow within conversionWindowSeconds (1 s..31 days, default 1 day) of
    entering. Range up to 31 days. breakdownBy: one funnel per top value of the entering event's attribute
    (breakdownLimit 1..20, default 5). insights:read.
    """
    funnel(steps: [String!]!, from: DateTime!, to: DateTime!, conversionWindowSeconds: Int, breakdownBy: String, breakdownLimit: Int): Funnel!
    """
    Cohorts of subjects by the period (in timeZone) of their first startEvent in [from, to), and how many did
    returnEvent in each later period. At most 92 daily or 52 weekly periods. insights:read.
    """
    retention(startEvent: String!, returnEvent: String!, period: RetentionPeriod!, from: DateTime!, to: DateTime!, timeZone: String): Retention!
    "The tenant's rolled-up attributes. insights:read."
    insightsDimensions: InsightsDimensions!
  }

  "One event to ingest (rules in Event and Attributes)."
  input EventInput {
    "1..128 characters without control characters, unique in the tenant: a re-sent id is a duplicate, never stored twice."
    id: String!
    "1..100 letters, digits and _ . : -"
    name: String!
    "After 2000-01-01, at most 24 hours ahead of the service's clock; stored to the millisecond."
    occurredAt: DateTime!
    "1..200 characters without control characters."
    subjectId: String!
    attributes: Attributes
  }

  type RejectedEvent {
    "The item's position in the request (0-based)."
    index: Int!
    "Its id as sent."
    id: String!
    "The field at fault: id, name, occurredAt, subjectId, attributes or attributes[<key>]."
    field: String!
    reason: String!
  }

  "accepted + duplicates + rejected = the events sent."
  type IngestEventsPayload {
    "Stored by this call."
    accepted: Int!
    "Valid events whose id was already stored, or repeated earlier in the call."
    duplicates: Int!
    "Invalid items, in request order; the rest of the call goes in."
    rejected: [RejectedEvent!]!
  }

  extend type Mutation {
    """
    Stores up to 100 events (more is BAD_USER_INPUT on events: send bulk to POST /v1/events). An invalid item is
    rejected with its index and reason and never sinks the call; re-sending is safe. events:write.
    """
    ingestEvents(events: [EventInput!]!): IngestEventsPayload!
    """
    Replaces the tenant's dimensions (at most 20 keys; [] restores the defaults). A new dimension is rolled up over
    every stored event before this answers, and ingestion waits meanwhile: an expensive call. Owners and admins.
    """
    setInsightsDimensions(keys: [String!]!): InsightsDimensions!
  }
`;
