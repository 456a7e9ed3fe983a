-- CreateTable
CREATE TABLE "audit_events" (
    "id" UUID NOT NULL,
    "tenant_id" UUID,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "principal" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target_ids" TEXT[],
    "outcome" TEXT NOT NULL,
    "error_codes" TEXT[],
    "request_id" TEXT NOT NULL,
    "trace_id" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "stored_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_events_tenant_id_occurred_at_id_idx" ON "audit_events"("tenant_id", "occurred_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_events_tenant_id_action_occurred_at_idx" ON "audit_events"("tenant_id", "action", "occurred_at" DESC);

-- CreateIndex
CREATE INDEX "audit_events_tenant_id_principal_occurred_at_idx" ON "audit_events"("tenant_id", "principal", "occurred_at" DESC);

-- Append-only, hand-written (Prisma cannot express triggers): UPDATE, DELETE
-- and TRUNCATE are refused for every role, the table's owner included. Rows
-- only ever arrive through INSERT ... ON CONFLICT (id) DO NOTHING. Removing
-- records past their retention is a deliberate, reviewed operation (see
-- docs/operations.md, "Audit trail"), never something a service can do.
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "audit_events_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();

CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();
