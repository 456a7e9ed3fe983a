// Raw-SQL plumbing: every statement of svc-insights goes through a TenantReader
// (one statement as the tenant, in one round trip, under row-level security).

/** One statement as the call's tenant (TenantReader.query bound to it). */
export type TenantQuery = <R>(text: string, values?: unknown[]) => Promise<R[]>;

/** A timestamptz expression as whole epoch milliseconds (float8): cheaper for pg to parse than a timestamptz. */
export const epochMs = (expr: string) => `floor(extract(epoch FROM ${expr}) * 1000)::float8`;

/** epochMs, aliased. */
export const ms = (column: string, alias: string) => `${epochMs(column)} AS "${alias}"`;

/** A bigint column as a JS number (pg returns int8 as a string); counts stay far below 2^53. */
export const num = (column: string, alias: string) => `${column}::float8 AS "${alias}"`;
