-- Row-level security, the second wall behind every query's tenant filter
-- (docs/security.md, "Row-level security"). The service connects as
-- apgms_identity_app: no BYPASSRLS, owns nothing, granted only what it uses.
-- Migrations run as the tables' owner.

-- The secrets and rotations of an API key carry its tenant, so that every
-- tenant-owned table is filtered the same way (tenant_id = the transaction's
-- tenant) with no per-row join; (api_key_id, tenant_id) references the key, so
-- a row can never claim another tenant than its key's.
ALTER TABLE "api_key_rotations" DROP CONSTRAINT "api_key_rotations_api_key_id_fkey";
ALTER TABLE "api_key_secrets" DROP CONSTRAINT "api_key_secrets_api_key_id_fkey";

ALTER TABLE "api_key_rotations" ADD COLUMN "tenant_id" UUID;
ALTER TABLE "api_key_secrets" ADD COLUMN "tenant_id" UUID;
UPDATE "api_key_rotations" r SET "tenant_id" = k."tenant_id" FROM "api_keys" k WHERE k."id" = r."api_key_id";
UPDATE "api_key_secrets" s SET "tenant_id" = k."tenant_id" FROM "api_keys" k WHERE k."id" = s."api_key_id";
ALTER TABLE "api_key_rotations" ALTER COLUMN "tenant_id" SET NOT NULL;
ALTER TABLE "api_key_secrets" ALTER COLUMN "tenant_id" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_id_tenant_id_key" ON "api_keys"("id", "tenant_id");

-- AddForeignKey
ALTER TABLE "api_key_secrets" ADD CONSTRAINT "api_key_secrets_api_key_id_tenant_id_fkey" FOREIGN KEY ("api_key_id", "tenant_id") REFERENCES "api_keys"("id", "tenant_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_key_rotations" ADD CONSTRAINT "api_key_rotations_api_key_id_tenant_id_fkey" FOREIGN KEY ("api_key_id", "tenant_id") REFERENCES "api_keys"("id", "tenant_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---- the service's role (hand-written: Prisma cannot express roles) ---------
-- Roles are cluster-wide: created once, if missing (parallel test databases may
-- race to create it; the loser finds it made). Its password, if any, is set by
-- whoever operates the cluster, never here.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'apgms_identity_app') THEN
    CREATE ROLE apgms_identity_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO apgms_identity_app', current_database());
END
$$;

-- Only what the service does: nothing is deleted but tenants (the purge),
-- accounts and users; sessions, keys, secrets, rotations and invitations go
-- with their tenant, user or key by foreign key, which needs no grant.
GRANT USAGE ON SCHEMA "identity" TO apgms_identity_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON "tenants", "accounts", "users" TO apgms_identity_app;
GRANT SELECT, INSERT, UPDATE ON "sessions", "api_keys", "api_key_secrets", "invitations" TO apgms_identity_app;
GRANT SELECT, INSERT ON "api_key_rotations", "audit_events" TO apgms_identity_app;

-- ---- policies (hand-written) ------------------------------------------------
-- A row is visible and writable when its tenant is the transaction's
-- `app.tenant_id`, or when the transaction declared `app.scope = 'platform'`
-- (the few cross-tenant paths: @apgms/common's asPlatform). Both are set with
-- set_config(..., true) and end with the transaction; with neither set a query
-- sees no row. FORCE: the owner is held to the policies too (a superuser, as
-- in development, still bypasses them).
CREATE POLICY "tenant_isolation" ON "tenants"
  USING ("id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
CREATE POLICY "tenant_isolation" ON "accounts"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
CREATE POLICY "tenant_isolation" ON "users"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
CREATE POLICY "tenant_isolation" ON "sessions"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
CREATE POLICY "tenant_isolation" ON "api_keys"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
CREATE POLICY "tenant_isolation" ON "api_key_secrets"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
CREATE POLICY "tenant_isolation" ON "api_key_rotations"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
CREATE POLICY "tenant_isolation" ON "invitations"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');
-- Events without a tenant (a failed authentication) are platform-only.
CREATE POLICY "tenant_isolation" ON "audit_events"
  USING ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform')
  WITH CHECK ("tenant_id" = NULLIF(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.scope', true) = 'platform');

ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "accounts" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "users" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "sessions" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "api_key_secrets" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "api_key_rotations" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "invitations" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "audit_events" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
