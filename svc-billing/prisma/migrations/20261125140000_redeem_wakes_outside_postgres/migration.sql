-- billing.redeem() without its pg_notify (hand-written; same signature and body
-- otherwise as 20261125113000_redeem_function, which documents it). A NOTIFY
-- takes a database-wide lock at commit, so every redemption's commit waited
-- for the one before: removing it doubled the function's rate here
-- (docs/benchmarks.md, "Issue 8"). svc-billing now wakes the outbox relay
-- itself after the commit (common/src/outbox/wake.ts).
CREATE OR REPLACE FUNCTION redeem(
  p_tenant uuid,
  p_tx_id uuid,
  p_offer_id uuid,
  p_code text,
  p_customer text,
  p_order bigint,
  p_currency text,
  p_discount bigint,
  p_key text,
  p_hash text,
  p_event_id uuid,
  p_event bytea,
  p_now timestamptz,
  p_dry_run boolean
) RETURNS TABLE (
  outcome text,
  refusal text,
  message text,
  tx transactions,
  threshold_pending integer
)
LANGUAGE plpgsql
SECURITY INVOKER
-- The migration runs with the service's schema first on the search path; the function keeps it.
SET search_path FROM CURRENT
AS $$
DECLARE
  c codes;
  o offers;
  cp campaigns;
  t transactions;
  used_count bigint;
  pct numeric;
  level integer := 0;
BEGIN
  IF p_key IS NOT NULL AND NOT p_dry_run THEN
    SELECT * INTO t FROM transactions WHERE tenant_id = p_tenant AND idempotency_key = p_key;
    IF FOUND THEN
      IF t.request_hash IS DISTINCT FROM p_hash THEN
        RETURN QUERY SELECT 'key_conflict'::text, NULL::text, NULL::text, t, 0;
      ELSE
        RETURN QUERY SELECT 'replayed'::text, NULL::text, NULL::text, t, 0;
      END IF;
      RETURN;
    END IF;
  END IF;

  IF p_code IS NOT NULL THEN
    IF p_dry_run THEN
      SELECT * INTO c FROM codes WHERE tenant_id = p_tenant AND code = p_code;
    ELSE
      SELECT * INTO c FROM codes WHERE tenant_id = p_tenant AND code = p_code FOR UPDATE;
    END IF;
    IF NOT FOUND OR c.offer_id <> p_offer_id THEN
      RETURN QUERY SELECT 'not_found'::text, NULL::text, format('code %s not found', p_code), NULL::transactions, 0;
      RETURN;
    END IF;
  END IF;

  IF p_dry_run THEN
    SELECT * INTO o FROM offers WHERE tenant_id = p_tenant AND id = p_offer_id;
  ELSE
    SELECT * INTO o FROM offers WHERE tenant_id = p_tenant AND id = p_offer_id FOR UPDATE;
  END IF;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::text, format('offer %s not found', p_offer_id), NULL::transactions, 0;
    RETURN;
  END IF;
  IF p_dry_run THEN
    SELECT * INTO cp FROM campaigns WHERE tenant_id = p_tenant AND id = o.campaign_id;
  ELSE
    SELECT * INTO cp FROM campaigns WHERE tenant_id = p_tenant AND id = o.campaign_id FOR UPDATE;
  END IF;

  -- The rules, in the order a customer can act on them.
  IF cp.state = 'ended' OR (cp.end_at IS NOT NULL AND cp.end_at <= p_now) THEN
    RETURN QUERY SELECT 'refused'::text, 'CAMPAIGN_ENDED', format('campaign %s has ended', cp.id), NULL::transactions, 0;
    RETURN;
  END IF;
  IF cp.state = 'scheduled' OR (cp.state = 'active' AND cp.start_at IS NOT NULL AND cp.start_at > p_now) THEN
    RETURN QUERY SELECT 'refused'::text, 'CAMPAIGN_NOT_STARTED', format('campaign %s has not started', cp.id), NULL::transactions, 0;
    RETURN;
  END IF;
  IF cp.state <> 'active' THEN
    RETURN QUERY SELECT 'refused'::text, 'CAMPAIGN_NOT_ACTIVE', format('campaign %s is %s', cp.id, upper(cp.state::text)), NULL::transactions, 0;
    RETURN;
  END IF;
  IF NOT o.enabled THEN
    RETURN QUERY SELECT 'refused'::text, 'OFFER_DISABLED', format('offer %s is disabled', o.id), NULL::transactions, 0;
    RETURN;
  END IF;
  IF o.start_at IS NOT NULL AND o.start_at > p_now THEN
    RETURN QUERY SELECT 'refused'::text, 'OFFER_NOT_STARTED', format('offer %s starts at %s', o.id, o.start_at), NULL::transactions, 0;
    RETURN;
  END IF;
  IF o.end_at IS NOT NULL AND o.end_at <= p_now THEN
    RETURN QUERY SELECT 'refused'::text, 'OFFER_EXPIRED', format('offer %s expired at %s', o.id, o.end_at), NULL::transactions, 0;
    RETURN;
  END IF;
  IF o.code_kind = 'unique' AND p_code IS NULL THEN
    RETURN QUERY SELECT 'refused'::text, 'CODE_REQUIRED', format('offer %s is redeemed with one of its codes', o.id), NULL::transactions, 0;
    RETURN;
  END IF;
  IF p_code IS NOT NULL AND NOT c.shared AND c.redeemed_at IS NOT NULL THEN
    RETURN QUERY SELECT 'refused'::text, 'CODE_ALREADY_REDEEMED', format('code %s has already been redeemed', p_code), NULL::transactions, 0;
    RETURN;
  END IF;
  IF p_currency <> cp.currency THEN
    RETURN QUERY SELECT 'refused'::text, 'CURRENCY_MISMATCH', format('the order is in %s, the campaign in %s', p_currency, cp.currency), NULL::transactions, 0;
    RETURN;
  END IF;
  IF o.min_order_minor IS NOT NULL AND p_order < o.min_order_minor THEN
    RETURN QUERY SELECT 'refused'::text, 'ORDER_BELOW_MINIMUM', format('the order is below the offer''s minimum of %s minor units', o.min_order_minor), NULL::transactions, 0;
    RETURN;
  END IF;
  IF o.max_redemptions > 0 AND o.redemption_count >= o.max_redemptions THEN
    RETURN QUERY SELECT 'refused'::text, 'OFFER_LIMIT_REACHED', format('offer %s has reached its limit of %s redemptions', o.id, o.max_redemptions), NULL::transactions, 0;
    RETURN;
  END IF;
  IF o.max_per_customer > 0 THEN
    SELECT count INTO used_count FROM customer_redemptions WHERE tenant_id = p_tenant AND offer_id = o.id AND customer_ref = p_customer;
    IF COALESCE(used_count, 0) >= o.max_per_customer THEN
      RETURN QUERY SELECT 'refused'::text, 'CUSTOMER_LIMIT_REACHED', format('this customer has reached the offer''s limit of %s redemptions', o.max_per_customer), NULL::transactions, 0;
      RETURN;
    END IF;
  END IF;
  IF (cp.budget_kind = 'spend' AND cp.spent_minor + p_discount > cp.budget_limit)
     OR (cp.budget_kind = 'redemptions' AND cp.redemption_count + 1 > cp.budget_limit) THEN
    RETURN QUERY SELECT 'refused'::text, 'BUDGET_EXHAUSTED', format('campaign %s has not enough budget left', cp.id), NULL::transactions, 0;
    RETURN;
  END IF;

  IF p_dry_run THEN
    RETURN QUERY SELECT 'valid'::text, NULL::text, NULL::text, NULL::transactions, 0;
    RETURN;
  END IF;

  -- The writes.
  IF p_code IS NOT NULL AND NOT c.shared THEN
    UPDATE codes SET redeemed_at = p_now, transaction_id = p_tx_id WHERE tenant_id = p_tenant AND code = p_code;
  END IF;
  UPDATE offers SET redemption_count = redemption_count + 1,
                    codes_redeemed = codes_redeemed + CASE WHEN p_code IS NOT NULL AND NOT c.shared THEN 1 ELSE 0 END
    WHERE tenant_id = p_tenant AND id = o.id;
  INSERT INTO customer_redemptions (tenant_id, offer_id, customer_ref, count) VALUES (p_tenant, o.id, p_customer, 1)
    ON CONFLICT (tenant_id, offer_id, customer_ref) DO UPDATE SET count = customer_redemptions.count + 1;

  IF cp.budget_kind = 'spend' AND cp.budget_limit > 0 THEN
    pct := (cp.spent_minor + p_discount)::numeric * 100 / cp.budget_limit;
  ELSIF cp.budget_kind = 'redemptions' AND cp.budget_limit > 0 THEN
    pct := (cp.redemption_count + 1)::numeric * 100 / cp.budget_limit;
  ELSE
    pct := 0;
  END IF;
  level := CASE WHEN pct >= 100 THEN 100 WHEN pct >= 90 THEN 90 WHEN pct >= 80 THEN 80 WHEN pct >= 50 THEN 50 ELSE 0 END;
  IF level <= cp.threshold_notified OR level <= cp.threshold_pending THEN
    level := cp.threshold_pending;
  END IF;
  UPDATE campaigns SET spent_minor = spent_minor + p_discount, redemption_count = redemption_count + 1, threshold_pending = level
    WHERE tenant_id = p_tenant AND id = cp.id;

  INSERT INTO transactions (tenant_id, id, kind, status, campaign_id, offer_id, code, customer_ref, currency,
                            order_amount_minor, discount_minor, refunded_minor, idempotency_key, request_hash, created_at)
    VALUES (p_tenant, p_tx_id, 'redemption', 'completed', cp.id, o.id, p_code, p_customer, cp.currency,
            p_order, p_discount, 0, p_key, p_hash, p_now)
    RETURNING * INTO t;
  INSERT INTO outbox (tenant_id, id, aggregate_id, event_type, payload) VALUES (p_tenant, p_event_id, cp.id, 'transaction.created', p_event);
  RETURN QUERY SELECT 'ok'::text, NULL::text, NULL::text, t, level;
END
$$;
