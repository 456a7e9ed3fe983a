-- CreateEnum
CREATE TYPE "JobOutcome" AS ENUM ('completed', 'skipped');

-- CreateTable
CREATE TABLE "handled_messages" (
    "tenant_id" UUID NOT NULL,
    "handler" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "outcome" "JobOutcome" NOT NULL,
    "handled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "handled_messages_pkey" PRIMARY KEY ("tenant_id","handler","message_id")
);

-- ---- the worker's role (hand-written: Prisma cannot express roles) ----------
-- The worker connects as apgms_worker_app: no BYPASSRLS, owns nothing,
-- granted only what it uses. Roles are cluster-wide: created once, if missing
-- (parallel test databases may race to create it). Its password, if any, is
-- set by whoever operates the cluster, never here.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'apgms_worker_app') THEN
    CREATE ROLE apgms_worker_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO apgms_worker_app', current_database());
END
$$;

-- A handled message is recorded once; only its outcome may change, inside the
-- transaction that recorded it (a handler that found nothing to do). A retention
-- purge, when one exists, gets its own grant.
GRANT USAGE ON SCHEMA "worker" TO apgms_worker_app;
GRANT SELECT, INSERT ON "handled_messages" TO apgms_worker_app;
GRANT UPDATE ("outcome") ON "handled_messages" TO apgms_worker_app;

-- ---- policies (hand-written) ------------------------------------------------
-- As in the services (docs/security.md, "Row-level security"): a row is
-- visible and writable when its tenant is the transaction's `app.tenant_id`,
-- or when the transaction declared `app.scope = 'platform'`. FORCE: the owner
-- is held to the policies too.
CREATE POLICY "tenant_isolation" ON worker."handled_messages"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
ALTER TABLE worker."handled_messages" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
