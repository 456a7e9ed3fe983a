// The redemption baselines of `make bench` (issue 8): a bare node:http server
// that, per POST, runs ONE raw SQL statement through pg (a pool as large as
// the bench's connections) and answers a small JSON body. No auth, no rules,
// no row-level security, no locks taken before the writes, no relay.
//
// MODE=rows (the baseline): the same rows a redemption writes, in one
//   statement: the campaign's and the offer's counters, the customer's count,
//   the transaction and its outbox row (written as published, so no relay
//   picks it up). TARGETS is a JSON list of {campaignId, offerId}, used in
//   turn, like the end-to-end scenario's.
// MODE=insert (a stricter reference): only the transaction row, one INSERT.
"use strict";
const http = require("node:http");
const { randomBytes } = require("node:crypto");
const { Pool } = require("pg");

const { DATABASE_URL, TENANT_ID, MODE = "rows" } = process.env;
const TARGETS = JSON.parse(process.env.TARGETS);
const pool = new Pool({ connectionString: DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 20) });
// About the size of a transaction.created BillingEvent.
const PAYLOAD = randomBytes(220);

const ROWS = {
  name: "bench-redeem-rows",
  text: `WITH c AS (
    UPDATE billing.campaigns SET spent_minor = spent_minor + 100, redemption_count = redemption_count + 1 WHERE tenant_id = $1 AND id = $2 RETURNING id
  ), o AS (
    UPDATE billing.offers SET redemption_count = redemption_count + 1 WHERE tenant_id = $1 AND id = $3 RETURNING id
  ), cr AS (
    INSERT INTO billing.customer_redemptions (tenant_id, offer_id, customer_ref, count) VALUES ($1, $3, $4, 1)
    ON CONFLICT (tenant_id, offer_id, customer_ref) DO UPDATE SET count = customer_redemptions.count + 1 RETURNING 1
  ), t AS (
    INSERT INTO billing.transactions (tenant_id, id, kind, status, campaign_id, offer_id, customer_ref, currency, order_amount_minor, discount_minor)
    VALUES ($1, gen_random_uuid(), 'redemption', 'completed', $2, $3, $4, 'EUR', 10000, 100) RETURNING id
  ), ob AS (
    INSERT INTO billing.outbox (tenant_id, id, aggregate_id, event_type, payload, published_at)
    VALUES ($1, gen_random_uuid(), $2, 'transaction.created', $5, now()) RETURNING 1
  )
  SELECT t.id FROM t, c, o, cr, ob`,
};
const INSERT = {
  name: "bench-redeem-insert",
  text: `INSERT INTO billing.transactions (tenant_id, id, kind, status, campaign_id, offer_id, customer_ref, currency, order_amount_minor, discount_minor)
         VALUES ($1, gen_random_uuid(), 'redemption', 'completed', $2, $3, $4, 'EUR', 10000, 100) RETURNING id`,
};

let n = 0;
function statement() {
  const { campaignId, offerId } = TARGETS[n % TARGETS.length];
  const customer = `bench-${n++}`;
  return MODE === "insert"
    ? { ...INSERT, values: [TENANT_ID, campaignId, offerId, customer] }
    : { ...ROWS, values: [TENANT_ID, campaignId, offerId, customer, PAYLOAD] };
}

const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    pool.query(statement()).then(
      ({ rows }) => {
        const body = JSON.stringify({ data: { redeem: { id: rows[0].id, discount: { amountMinor: 100, currency: "EUR" } } } });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      },
      (err) => {
        res.writeHead(500);
        res.end(String(err.message));
      },
    );
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => process.stdout.write(`listening ${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => pool.end().then(() => process.exit(0))));
