-- CreateEnum
CREATE TYPE "CampaignState" AS ENUM ('draft', 'scheduled', 'active', 'paused', 'ended');

-- CreateEnum
CREATE TYPE "BudgetKind" AS ENUM ('none', 'spend', 'redemptions');

-- CreateEnum
CREATE TYPE "OfferValueKind" AS ENUM ('percent', 'amount');

-- CreateEnum
CREATE TYPE "CodeKind" AS ENUM ('none', 'shared', 'unique');

-- CreateEnum
CREATE TYPE "TransactionKind" AS ENUM ('redemption', 'refund');

-- CreateEnum
CREATE TYPE "TransactionStatus" AS ENUM ('completed', 'partially_refunded', 'refunded');

-- CreateTable
CREATE TABLE "campaigns" (
    "tenant_id" UUID NOT NULL,
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "state" "CampaignState" NOT NULL DEFAULT 'draft',
    "currency" CHAR(3) NOT NULL,
    "budget_kind" "BudgetKind" NOT NULL DEFAULT 'none',
    "budget_limit" BIGINT,
    "spent_minor" BIGINT NOT NULL DEFAULT 0,
    "refunded_minor" BIGINT NOT NULL DEFAULT 0,
    "redemption_count" BIGINT NOT NULL DEFAULT 0,
    "threshold_notified" INTEGER NOT NULL DEFAULT 0,
    "threshold_pending" INTEGER NOT NULL DEFAULT 0,
    "start_at" TIMESTAMPTZ(3),
    "end_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "offers" (
    "tenant_id" UUID NOT NULL,
    "id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "value_kind" "OfferValueKind" NOT NULL,
    "percent_bps" INTEGER,
    "amount_off_minor" BIGINT,
    "max_discount_minor" BIGINT,
    "code_kind" "CodeKind" NOT NULL,
    "max_redemptions" BIGINT NOT NULL DEFAULT 0,
    "max_per_customer" BIGINT NOT NULL DEFAULT 0,
    "min_order_minor" BIGINT,
    "start_at" TIMESTAMPTZ(3),
    "end_at" TIMESTAMPTZ(3),
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "redemption_count" BIGINT NOT NULL DEFAULT 0,
    "code_count" BIGINT NOT NULL DEFAULT 0,
    "codes_redeemed" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "offers_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "codes" (
    "tenant_id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "offer_id" UUID NOT NULL,
    "shared" BOOLEAN NOT NULL DEFAULT false,
    "redeemed_at" TIMESTAMPTZ(3),
    "transaction_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "codes_pkey" PRIMARY KEY ("tenant_id","code")
);

-- CreateTable
CREATE TABLE "customer_redemptions" (
    "tenant_id" UUID NOT NULL,
    "offer_id" UUID NOT NULL,
    "customer_ref" TEXT NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "customer_redemptions_pkey" PRIMARY KEY ("tenant_id","offer_id","customer_ref")
);

-- CreateTable
CREATE TABLE "transactions" (
    "tenant_id" UUID NOT NULL,
    "id" UUID NOT NULL,
    "kind" "TransactionKind" NOT NULL,
    "status" "TransactionStatus" NOT NULL DEFAULT 'completed',
    "campaign_id" UUID NOT NULL,
    "offer_id" UUID NOT NULL,
    "code" TEXT,
    "customer_ref" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "order_amount_minor" BIGINT,
    "discount_minor" BIGINT NOT NULL,
    "refunded_minor" BIGINT NOT NULL DEFAULT 0,
    "redemption_id" UUID,
    "reason" TEXT NOT NULL DEFAULT '',
    "idempotency_key" TEXT,
    "request_hash" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transactions_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "tenant_id" UUID NOT NULL,
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "aggregate_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "payload" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateIndex
CREATE INDEX "campaigns_tenant_id_created_at_id_idx" ON "campaigns"("tenant_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "campaigns_state_start_at_idx" ON "campaigns"("state", "start_at");

-- CreateIndex
CREATE INDEX "offers_tenant_id_created_at_id_idx" ON "offers"("tenant_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "offers_tenant_id_campaign_id_created_at_id_idx" ON "offers"("tenant_id", "campaign_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "codes_tenant_id_offer_id_code_idx" ON "codes"("tenant_id", "offer_id", "code");

-- CreateIndex
CREATE INDEX "transactions_tenant_id_created_at_id_idx" ON "transactions"("tenant_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "transactions_tenant_id_campaign_id_created_at_id_idx" ON "transactions"("tenant_id", "campaign_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "transactions_tenant_id_offer_id_created_at_id_idx" ON "transactions"("tenant_id", "offer_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "transactions_tenant_id_idempotency_key_key" ON "transactions"("tenant_id", "idempotency_key");

-- The outbox relay's indexes (@apgms/common/outbox, outboxTableSql): unpublished rows by seq, published ones by age.
CREATE INDEX "outbox_unpublished_seq_idx" ON "outbox"("seq") WHERE "published_at" IS NULL;
CREATE INDEX "outbox_published_at_idx" ON "outbox"("published_at") WHERE "published_at" IS NOT NULL;

-- AddForeignKey
ALTER TABLE "offers" ADD CONSTRAINT "offers_tenant_id_campaign_id_fkey" FOREIGN KEY ("tenant_id", "campaign_id") REFERENCES "campaigns"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "codes" ADD CONSTRAINT "codes_tenant_id_offer_id_fkey" FOREIGN KEY ("tenant_id", "offer_id") REFERENCES "offers"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_redemptions" ADD CONSTRAINT "customer_redemptions_tenant_id_offer_id_fkey" FOREIGN KEY ("tenant_id", "offer_id") REFERENCES "offers"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_tenant_id_campaign_id_fkey" FOREIGN KEY ("tenant_id", "campaign_id") REFERENCES "campaigns"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_tenant_id_offer_id_fkey" FOREIGN KEY ("tenant_id", "offer_id") REFERENCES "offers"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_tenant_id_redemption_id_fkey" FOREIGN KEY ("tenant_id", "redemption_id") REFERENCES "transactions"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---- the service's role (hand-written: Prisma cannot express roles) ---------
-- svc-billing connects as apgms_billing_app: no BYPASSRLS, owns nothing,
-- granted only what it uses. Roles are cluster-wide: created once, if missing
-- (parallel test databases may race to create it). Its password, if any, is
-- set by whoever operates the cluster, never here.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'apgms_billing_app') THEN
    CREATE ROLE apgms_billing_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO apgms_billing_app', current_database());
END
$$;

-- Nothing is deleted by the service but published outbox rows past their
-- retention; offers, codes and transactions go with their campaign (never
-- deleted today) by foreign key.
GRANT USAGE ON SCHEMA "billing" TO apgms_billing_app;
GRANT SELECT, INSERT, UPDATE ON "campaigns", "offers", "codes", "customer_redemptions", "transactions" TO apgms_billing_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON "outbox" TO apgms_billing_app;
GRANT USAGE ON SEQUENCE "outbox_seq_seq" TO apgms_billing_app;

-- ---- policies (hand-written) ------------------------------------------------
-- As in svc-identity (docs/security.md, "Row-level security"): a row is
-- visible and writable when its tenant is the transaction's `app.tenant_id`,
-- or when the transaction declared `app.scope = 'platform'` (the outbox relay
-- and the schedule sweep, which work across tenants). FORCE: the owner is
-- held to the policies too.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['campaigns', 'offers', 'codes', 'customer_redemptions', 'transactions', 'outbox'] LOOP
    EXECUTE format(
      'CREATE POLICY "tenant_isolation" ON billing.%I
         USING ("tenant_id" = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid OR current_setting(''app.scope'', true) = ''platform'')
         WITH CHECK ("tenant_id" = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid OR current_setting(''app.scope'', true) = ''platform'')', t);
    EXECUTE format('ALTER TABLE billing.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$;
