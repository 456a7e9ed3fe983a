// The outbox table and every statement on it, in one place: the DDL services
// copy into their migrations (README.md), the writer's insert and the relay's
// queries. Names are built from the schema, so only plain lowercase
// identifiers are accepted (they then need no quoting rules of their own).

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,49}$/;

function checked(schema: string): string {
  if (!IDENTIFIER.test(schema)) throw new Error(`outbox: not a plain lowercase schema name: ${JSON.stringify(schema)}`);
  return schema;
}

/** `"billing".outbox` */
export function outboxTable(schema: string): string {
  return `"${checked(schema)}".outbox`;
}

/** Name hashed (hashtextextended) into the relay's session advisory lock: one relay per table in the database. */
export function outboxLockName(schema: string): string {
  return `apgms.outbox-relay:${checked(schema)}.outbox`;
}

const POLICY = `tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform'`;

/**
 * The DDL of a service's outbox, exactly as its migration must create it
 * (the schema exists already; grants to the service's role are the
 * migration's own: SELECT, INSERT, UPDATE, DELETE).
 */
export function outboxTableSql(schema: string): string {
  const table = outboxTable(schema);
  return `CREATE TABLE ${table} (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  aggregate_id uuid NOT NULL,
  event_type text NOT NULL,
  payload bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_unpublished_seq_idx ON ${table} (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at_idx ON ${table} (published_at) WHERE published_at IS NOT NULL;
CREATE POLICY tenant_isolation ON ${table}
  USING (${POLICY})
  WITH CHECK (${POLICY});
ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
`;
}

/** One row; the writer wakes the relay after its commit (OutboxWake). */
export function outboxInsertSql(schema: string): string {
  return `INSERT INTO ${outboxTable(schema)} (tenant_id, id, aggregate_id, event_type, payload) VALUES ($1, $2, $3, $4, $5)`;
}

export interface OutboxRow {
  tenant_id: string;
  id: string;
  seq: string;
  aggregate_id: string;
  event_type: string;
  payload: Buffer;
}

/** Relay queries; $n parameters as named in each. */
export function relaySql(schema: string) {
  const table = outboxTable(schema);
  return {
    /** $1 = lock name */
    tryLock: `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`,
    /** $1 = batch size */
    unpublished: `SELECT tenant_id, id, seq, aggregate_id, event_type, payload FROM ${table} WHERE published_at IS NULL ORDER BY seq LIMIT $1`,
    /** $1 = seqs */
    markPublished: `UPDATE ${table} SET published_at = now() WHERE published_at IS NULL AND seq = ANY($1::bigint[])`,
    /** $1 = retention in ms, $2 = rows per statement */
    deleteExpired: `DELETE FROM ${table} WHERE (tenant_id, id) IN (
  SELECT tenant_id, id FROM ${table} WHERE published_at < now() - $1 * interval '1 millisecond' LIMIT $2)`,
  };
}
