-- insights.ingest_events() and insights.set_dimensions() (hand-written;
-- svc-insights/README.md, "Ingestion" and "Rollups"). Both run as the caller
-- (SECURITY INVOKER): row-level security applies, and the caller has set
-- app.tenant_id.

-- The 15-minute bucket of an instant given as epoch milliseconds (UTC-aligned:
-- every IANA zone's offset is a multiple of 15 minutes, so local hours and days
-- are whole buckets).
CREATE FUNCTION quarter_hour(p_ms bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT to_timestamp((p_ms / 900000) * 900) $$;

-- A value as rollup_dimensions stores it: the text of its typed column (a
-- number's text depends on extra_float_digits, hence STABLE; the default, 1,
-- prints the shortest exact form, and the functions below pin it).
CREATE FUNCTION dimension_value(p_type "AttributeType", p_string text, p_number double precision, p_bool boolean) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE p_type WHEN 'string' THEN p_string WHEN 'number' THEN p_number::text ELSE p_bool::text END $$;

-- Stores one validated batch and rolls up the events that were new, in the
-- caller's transaction (one statement: the whole batch commits or nothing).
--
-- The caller has validated every item and removed ids repeated in the batch.
-- Event i (1-based) is (p_ids[i], p_names[i], p_times[i] in epoch ms,
-- p_subjects[i]); attribute a belongs to event p_attr_event[a] and is
-- (p_keys[a], p_types[a], and the value column of its type). Returns how many
-- events were stored; the others were duplicates of stored ids.
--
-- Set-based throughout: one INSERT per table, whatever the batch size, and
-- the arrays are only walked by unnest() and joined by hash (subscripting a
-- text[] is linear in the position: a batch would cost O(n^2)). Rows are
-- inserted and upserted in key order, table by table, always in the same
-- table order, so concurrent batches touching the same rollup rows (or the
-- same ids) wait for each other but never deadlock.
CREATE FUNCTION ingest_events(
  p_tenant uuid,
  p_ids text[],
  p_names text[],
  p_times bigint[],
  p_subjects text[],
  p_attr_event integer[],
  p_keys text[],
  p_types "AttributeType"[],
  p_strings text[],
  p_numbers double precision[],
  p_bools boolean[],
  p_default_dimensions text[]
) RETURNS integer
LANGUAGE plpgsql
SECURITY INVOKER
-- The migration runs with the service's schema first on the search path; the function keeps it.
SET search_path FROM CURRENT
-- Joins of the batch's arrays must hash, whatever the planner guesses of unnest()'s row counts.
SET enable_nestloop = off
-- Numbers become dimension values as their shortest exact text.
SET extra_float_digits = 1
AS $$
DECLARE
  v_new boolean[];
  v_stored integer;
  v_dimensions text[];
BEGIN
  -- set_dimensions() rolls up a new dimension under the exclusive lock: no batch lands between.
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('apgms.insights.dimensions:' || p_tenant::text, 0));
  SELECT coalesce(array_agg(d.key), p_default_dimensions) INTO v_dimensions FROM dimensions d WHERE d.tenant_id = p_tenant;

  -- v_new[i]: event i was stored by this call (false: its id was already there).
  WITH stored AS (
    INSERT INTO events (tenant_id, id, name, occurred_at, subject_id)
    SELECT p_tenant, e.id, e.name, to_timestamp(e.ms::double precision / 1000), e.subject
    FROM unnest(p_ids, p_names, p_times, p_subjects) AS e(id, name, ms, subject)
    ORDER BY e.id
    ON CONFLICT DO NOTHING
    RETURNING id
  )
  SELECT array_agg(s.id IS NOT NULL ORDER BY u.i), count(s.id) INTO v_new, v_stored
  FROM unnest(p_ids) WITH ORDINALITY AS u(id, i) LEFT JOIN stored s ON s.id = u.id;

  IF v_stored = 0 THEN
    RETURN 0;
  END IF;

  INSERT INTO event_attributes (tenant_id, event_id, key, type, string_value, number_value, bool_value)
  SELECT p_tenant, e.id, a.key, a.type, a.s, a.n, a.b
  FROM unnest(p_ids, v_new) WITH ORDINALITY AS e(id, new, i)
  JOIN unnest(p_attr_event, p_keys, p_types, p_strings, p_numbers, p_bools) AS a(ev, key, type, s, n, b) ON a.ev = e.i
  WHERE e.new;

  INSERT INTO rollup_counts AS r (tenant_id, name, bucket, count)
  SELECT p_tenant, e.name, quarter_hour(e.ms), count(*)
  FROM unnest(p_names, p_times, v_new) AS e(name, ms, new)
  WHERE e.new
  GROUP BY 2, 3
  ORDER BY 2, 3
  ON CONFLICT (tenant_id, name, bucket) DO UPDATE SET count = r.count + excluded.count;

  INSERT INTO rollup_sums AS r (tenant_id, name, key, bucket, sum, count)
  SELECT p_tenant, e.name, a.key, quarter_hour(e.ms), sum(a.n), count(*)
  FROM unnest(p_names, p_times, v_new) WITH ORDINALITY AS e(name, ms, new, i)
  JOIN unnest(p_attr_event, p_keys, p_types, p_numbers) AS a(ev, key, type, n) ON a.ev = e.i
  WHERE e.new AND a.type = 'number'
  GROUP BY 2, 3, 4
  ORDER BY 2, 3, 4
  ON CONFLICT (tenant_id, name, key, bucket) DO UPDATE SET sum = r.sum + excluded.sum, count = r.count + excluded.count;

  INSERT INTO rollup_dimensions AS r (tenant_id, key, name, bucket, type, value, count)
  SELECT p_tenant, a.key, e.name, quarter_hour(e.ms), a.type, dimension_value(a.type, a.s, a.n, a.b), count(*)
  FROM unnest(p_names, p_times, v_new) WITH ORDINALITY AS e(name, ms, new, i)
  JOIN unnest(p_attr_event, p_keys, p_types, p_strings, p_numbers, p_bools) AS a(ev, key, type, s, n, b) ON a.ev = e.i
  WHERE e.new AND a.key = ANY (v_dimensions)
  GROUP BY 2, 3, 4, 5, 6
  ORDER BY 2, 3, 4, 5, 6
  ON CONFLICT (tenant_id, key, name, bucket, type, value) DO UPDATE SET count = r.count + excluded.count;

  INSERT INTO subject_buckets (tenant_id, name, bucket, subject_id)
  SELECT DISTINCT p_tenant, e.name, quarter_hour(e.ms), e.subject
  FROM unnest(p_names, p_times, p_subjects, v_new) AS e(name, ms, subject, new)
  WHERE e.new
  ORDER BY 2, 3, 4
  ON CONFLICT DO NOTHING;

  RETURN v_stored;
END
$$;

-- Replaces the tenant's dimensions (an empty p_keys: back to p_defaults) and
-- makes rollup_dimensions hold exactly the new set over all stored events: the
-- rows of dropped keys go, added keys are rolled up from event_attributes.
-- Ingestion of the tenant waits on the advisory lock meanwhile, so no batch is
-- rolled up under the old set after the backfill read the events. Returns the
-- keys now in effect.
CREATE FUNCTION set_dimensions(p_tenant uuid, p_keys text[], p_defaults text[]) RETURNS text[]
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path FROM CURRENT
SET extra_float_digits = 1
AS $$
DECLARE
  v_old text[];
  v_new text[] := CASE WHEN cardinality(p_keys) = 0 THEN p_defaults ELSE p_keys END;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('apgms.insights.dimensions:' || p_tenant::text, 0));
  SELECT coalesce(array_agg(d.key), p_defaults) INTO v_old FROM dimensions d WHERE d.tenant_id = p_tenant;

  DELETE FROM dimensions WHERE tenant_id = p_tenant;
  INSERT INTO dimensions (tenant_id, key) SELECT DISTINCT p_tenant, k FROM unnest(p_keys) AS k;

  DELETE FROM rollup_dimensions WHERE tenant_id = p_tenant AND NOT (key = ANY (v_new) AND key = ANY (v_old));
  INSERT INTO rollup_dimensions (tenant_id, key, name, bucket, type, value, count)
  SELECT p_tenant, a.key, e.name, date_bin('15 minutes', e.occurred_at, 'epoch'::timestamptz), a.type,
         dimension_value(a.type, a.string_value, a.number_value, a.bool_value), count(*)
  FROM event_attributes a
  JOIN events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id
  WHERE a.tenant_id = p_tenant AND a.key = ANY (v_new) AND NOT (a.key = ANY (v_old))
  GROUP BY 2, 3, 4, 5, 6;

  RETURN ARRAY(SELECT DISTINCT k FROM unnest(v_new) AS k ORDER BY k);
END
$$;

GRANT EXECUTE ON FUNCTION quarter_hour(bigint), dimension_value("AttributeType", text, double precision, boolean) TO apgms_insights_app;
GRANT EXECUTE ON FUNCTION ingest_events(uuid, text[], text[], bigint[], text[], integer[], text[], "AttributeType"[], text[], double precision[], boolean[], text[]) TO apgms_insights_app;
GRANT EXECUTE ON FUNCTION set_dimensions(uuid, text[], text[]) TO apgms_insights_app;
