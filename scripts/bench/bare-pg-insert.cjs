// The redemption baseline of `make bench` (issue 8): a bare node:http server
// that writes, per POST, the same transaction row a redemption writes, with
// one raw INSERT through pg (a pool as large as the bench's connections), and
// answers a small JSON body. No auth, no rules, no counters, no outbox.
"use strict";
const http = require("node:http");
const { Pool } = require("pg");

const { DATABASE_URL, TENANT_ID, CAMPAIGN_ID, OFFER_ID } = process.env;
const pool = new Pool({ connectionString: DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 20) });
const INSERT = {
  name: "bench-insert",
  text: `INSERT INTO billing.transactions (tenant_id, id, kind, status, campaign_id, offer_id, customer_ref, currency, order_amount_minor, discount_minor)
         VALUES ($1, gen_random_uuid(), 'redemption', 'completed', $2, $3, $4, 'EUR', 10000, 100) RETURNING id`,
};
let n = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    pool.query({ ...INSERT, values: [TENANT_ID, CAMPAIGN_ID, OFFER_ID, `bench-${n++}`] }).then(
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
