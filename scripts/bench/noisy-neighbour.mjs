// The noisy-neighbour part of `make bench`: its fixture data and its measurement.
import { autocannon, median, require } from "./harness.mjs";

export const NOISY_NEIGHBOUR = "noisy neighbour (quiet tenant under a flood)";

/**
 * Gives the demo account 200 more users (so the heaviest query the limits allow returns
 * full pages) and adds a second tenant with one user: the quiet neighbour. Written as the
 * database owner: this is fixture data, not a path under test.
 */
export async function seedNoisyNeighbours(ownerUrl, issuer) {
  const { Client } = require("pg");
  const pg = new Client({ connectionString: ownerUrl });
  await pg.connect();
  try {
    await pg.query(
      `INSERT INTO identity.users (tenant_id, account_id, email, display_name, role, oidc_issuer, oidc_subject, updated_at)
       SELECT a.tenant_id, a.id, 'crowd' || n || '@demo.apgms.dev', 'Crowd ' || n, 'viewer', $1, 'crowd-' || n, now()
         FROM identity.accounts a JOIN identity.tenants t ON t.id = a.tenant_id, generate_series(1, 200) n
        WHERE t.slug = 'demo' AND a.name = 'Main'`,
      [issuer],
    );
    const quietSubject = "quiet@quiet.example";
    await pg.query(
      `WITH t AS (INSERT INTO identity.tenants (name, slug, updated_at) VALUES ('Quiet Co', 'quiet', now()) RETURNING id),
            a AS (INSERT INTO identity.accounts (tenant_id, name, updated_at) SELECT id, 'Main', now() FROM t RETURNING id, tenant_id)
       INSERT INTO identity.users (tenant_id, account_id, email, display_name, role, oidc_issuer, oidc_subject, updated_at)
       SELECT tenant_id, id, $2, 'Quiet', 'owner', $1, $2, now() FROM a`,
      [issuer, quietSubject],
    );
    return { quietSubject };
  } finally {
    await pg.end();
  }
}

// The heaviest document the default limits admit: depth 7, two nested pages of 57 through a
// variable (1 + 3n + 3n² = 9,919 nodes, just under GRAPHQL_MAX_NODES = 10,000): 3,249 rows.
const HEAVY = JSON.stringify({
  query: "query($n: Int) { users(first: $n) { nodes { account { users(first: $n) { nodes { account { name } } } } } } }",
  variables: { n: 57 },
});

/**
 * Tenant "quiet" asks for `me` (`query`) at a steady 50 req/s from its own address, alone and
 * then while a viewer of tenant demo floods the heaviest allowed query over 20 connections from
 * another address. The quiet tenant must see no error and a p99 within 2x of its p99 alone.
 */
export async function noisyNeighbour(url, { tokens, query, rounds, seconds: roundSeconds }) {
  const quiet = (seconds) =>
    autocannon({
      url,
      method: "POST",
      connections: 5,
      overallRate: 50,
      duration: seconds,
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.quiet}`, "x-forwarded-for": "198.51.100.10" },
      body: query,
    });
  const flood = (seconds) =>
    autocannon({
      url,
      method: "POST",
      connections: 20,
      duration: seconds,
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.flooder}`, "x-forwarded-for": "203.0.113.66" },
      body: HEAVY,
    });
  const seconds = roundSeconds + 2;
  await quiet(2);
  const rows = [];
  for (let round = 1; round <= rounds; round++) {
    const alone = await quiet(seconds);
    const [together, flooded] = await Promise.all([quiet(seconds), flood(seconds)]);
    rows.push({ alone, together, flooded });
    console.log(
      `noisy ${round}  quiet alone p99 ${alone.latency.p99} ms (${alone.non2xx + alone.errors} errors)  ` +
        `with the flood p99 ${together.latency.p99} ms (${together.non2xx + together.errors} errors)  ` +
        `flood: ${flooded.requests.total} requests, ${flooded["2xx"]} answered 2xx, ${flooded.non2xx} refused`,
    );
  }
  const alone = median(rows.map((r) => r.alone.latency.p99));
  const together = median(rows.map((r) => r.together.latency.p99));
  const errors = rows.reduce((n, r) => n + r.alone.non2xx + r.alone.errors + r.together.non2xx + r.together.errors, 0);
  const ratio = together / alone;
  console.log(
    `target: the quiet tenant's p99 under a flood within 2x of alone, no error: ${ratio <= 2 && errors === 0 ? "met" : "NOT met"} ` +
      `(median p99 ${together} ms vs ${alone} ms = ${ratio.toFixed(2)}x, ${errors} errors)`,
  );
}
