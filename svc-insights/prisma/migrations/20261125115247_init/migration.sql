-- CreateEnum
CREATE TYPE "AttributeType" AS ENUM ('string', 'number', 'boolean');

-- CreateTable
CREATE TABLE "events" (
    "tenant_id" UUID NOT NULL,
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "subject_id" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "event_attributes" (
    "tenant_id" UUID NOT NULL,
    "event_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "type" "AttributeType" NOT NULL,
    "string_value" TEXT,
    "number_value" DOUBLE PRECISION,
    "bool_value" BOOLEAN,

    CONSTRAINT "event_attributes_pkey" PRIMARY KEY ("tenant_id","event_id","key")
);

-- CreateTable
CREATE TABLE "rollup_counts" (
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "rollup_counts_pkey" PRIMARY KEY ("tenant_id","name","bucket")
);

-- CreateTable
CREATE TABLE "rollup_sums" (
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "sum" DOUBLE PRECISION NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "rollup_sums_pkey" PRIMARY KEY ("tenant_id","name","key","bucket")
);

-- CreateTable
CREATE TABLE "rollup_dimensions" (
    "tenant_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "type" "AttributeType" NOT NULL,
    "value" TEXT NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "rollup_dimensions_pkey" PRIMARY KEY ("tenant_id","key","name","bucket","type","value")
);

-- CreateTable
CREATE TABLE "subject_buckets" (
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "subject_id" TEXT NOT NULL,

    CONSTRAINT "subject_buckets_pkey" PRIMARY KEY ("tenant_id","name","bucket","subject_id")
);

-- CreateTable
CREATE TABLE "dimensions" (
    "tenant_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dimensions_pkey" PRIMARY KEY ("tenant_id","key")
);

-- CreateIndex
CREATE INDEX "events_tenant_id_occurred_at_id_idx" ON "events"("tenant_id", "occurred_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "events_tenant_id_name_occurred_at_id_idx" ON "events"("tenant_id", "name", "occurred_at", "id");

-- ---- the service's role (hand-written: Prisma cannot express roles) ---------
-- svc-insights connects as apgms_insights_app: no BYPASSRLS, owns nothing,
-- granted only what it uses. Roles are cluster-wide: created once, if missing
-- (parallel test databases may race to create it). Its password, if any, is
-- set by whoever operates the cluster, never here.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'apgms_insights_app') THEN
    CREATE ROLE apgms_insights_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO apgms_insights_app', current_database());
END
$$;

-- Events are never changed once stored (a purge, when one exists, gets its own
-- grant). Rollups are upserted by the ingesting transaction; a dimension's rows
-- go when the tenant stops rolling it up (SetDimensions).
GRANT USAGE ON SCHEMA "insights" TO apgms_insights_app;
GRANT SELECT, INSERT ON "events", "event_attributes", "subject_buckets" TO apgms_insights_app;
GRANT SELECT, INSERT, UPDATE ON "rollup_counts", "rollup_sums" TO apgms_insights_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON "rollup_dimensions", "dimensions" TO apgms_insights_app;

-- ---- policies (hand-written) ------------------------------------------------
-- As in svc-identity and svc-billing (docs/security.md, "Row-level security"):
-- a row is visible and writable when its tenant is the transaction's
-- `app.tenant_id`, or when the transaction declared `app.scope = 'platform'`.
-- FORCE: the owner is held to the policies too.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['events', 'event_attributes', 'rollup_counts', 'rollup_sums', 'rollup_dimensions', 'subject_buckets', 'dimensions'] LOOP
    EXECUTE format(
      'CREATE POLICY "tenant_isolation" ON insights.%I
         USING ("tenant_id" = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid OR current_setting(''app.scope'', true) = ''platform'')
         WITH CHECK ("tenant_id" = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid OR current_setting(''app.scope'', true) = ''platform'')', t);
    EXECUTE format('ALTER TABLE insights.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$;
