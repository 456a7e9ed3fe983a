// Every limit of the insights API in one place (documented in the proto
// comments and README.md; a request past one is INVALID_ARGUMENT naming it).

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Ingestion. */
export const MAX_BATCH_EVENTS = 5_000;
export const MAX_ATTRIBUTES = 50;
export const MAX_ID_LENGTH = 128;
export const MAX_NAME_LENGTH = 100;
export const MAX_SUBJECT_LENGTH = 200;
export const MAX_KEY_LENGTH = 64;
export const MAX_STRING_VALUE_LENGTH = 1_000;
/** How far ahead of the service's clock an event may be. */
export const MAX_FUTURE_SKEW_MS = DAY_MS;
/** The earliest time an event may carry (2000-01-01T00:00:00Z). */
export const MIN_EVENT_TIME_MS = Date.UTC(2000, 0, 1);

/** Queries. */
export const MAX_BUCKETS = 1_500;
export const MAX_MINUTE_RANGE_MS = DAY_MS;
export const MAX_RAW_RANGE_MS = 31 * DAY_MS;
export const MAX_ROLLUP_RANGE_MS = 400 * DAY_MS;
export const MAX_FILTERS = 5;
export const DEFAULT_SPLIT_LIMIT = 5;
export const MAX_SPLIT_LIMIT = 20;
export const DEFAULT_BREAKDOWN_LIMIT = 10;
export const MAX_BREAKDOWN_LIMIT = 100;
export const MIN_FUNNEL_STEPS = 2;
export const MAX_FUNNEL_STEPS = 10;
export const DEFAULT_FUNNEL_WINDOW_SECONDS = 86_400;
export const MAX_FUNNEL_WINDOW_SECONDS = 31 * 86_400;
export const MAX_RETENTION_DAYS = 92;
export const MAX_RETENTION_WEEKS = 52;

/** Dimensions: the attributes rolled up per value. */
export const DEFAULT_DIMENSIONS: readonly string[] = ["campaign", "channel", "country", "offer"];
export const MAX_DIMENSIONS = 20;

/** The rollups' bucket: every IANA zone's offset is a multiple of it. */
export const ROLLUP_BUCKET_MS = 15 * MINUTE_MS;
