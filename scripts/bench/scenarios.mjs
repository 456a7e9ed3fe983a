// The scenarios of `make bench`: what each one POSTs, to which server process
// (`edge`) backed by which gRPC service process (`service`), and the baseline
// it is judged against. Process keys name the specs in bench.mjs.
import { INSIGHTS } from "./insights.mjs";
import { NOISY_NEIGHBOUR } from "./noisy-neighbour.mjs";

export const ME = JSON.stringify({ query: "{ me { user { id email displayName role } tenant { id name slug } } }" });
const userById = (id) => JSON.stringify({ query: `{ user(id: "${id}") { id email displayName role } }` });
const USERS_50 = JSON.stringify({ query: "{ users(first: 50) { nodes { id email role account { name } } } }" });

const BARE_ME = "bare Yoga+express, static me";
const BASE_REDEEM = "baseline redeem (same rows, one raw statement)";
const BASE_REDEEM_ONE = "baseline redeem, one campaign (same rows, one raw statement)";
const REF_REDEEM_INSERT = "reference redeem: transaction row only (one raw INSERT)";
const campaignById = (id) => JSON.stringify({ query: `{ campaign(id: "${id}") { id name state currency budget { spend { amountMinor currency } redemptions } } }` });
const redeem = (offerId, customerRef) =>
  JSON.stringify({
    query: "mutation R($input: RedeemInput!) { redeem(input: $input) { id discount { amountMinor currency } } }",
    variables: { input: { offerId, customerRef, orderAmount: { amountMinor: 10000, currency: "EUR" } } },
  });
const BASE_USER = "baseline user(id)";
const BASE_USERS = "baseline users(50)";

/**
 * `body(fixtures)` builds the request; `check(data)` says whether the first answer's data is
 * right (a scenario that fails it is skipped). `auth`: the owner's JWT or the demo API key.
 */
export const SCENARIOS = [
  { name: BARE_ME, edge: "bare", body: () => ME, check: (d) => d.me?.user },
  { name: "edge me (JWT, BFF→svc-identity)", edge: "bff", service: "identity", auth: "jwt", baseline: BARE_ME, body: () => ME, check: (d) => d.me?.user },
  { name: "edge me (JWT), protection off", edge: "bffOpen", service: "identityOpen", auth: "jwt", baseline: BARE_ME, body: () => ME, check: (d) => d.me?.user },
  { name: "edge me (API key, Redis-cached)", edge: "bff", service: "identity", auth: "apiKey", baseline: BARE_ME, body: () => ME, check: (d) => d.me?.tenant },
  { name: "edge me, auth caches off", edge: "bffNoAuthCache", service: "identity", auth: "jwt", baseline: BARE_ME, body: () => ME, check: (d) => d.me?.user },
  // The hot read path (issue 7): one user by id, and a page of 50 users with their accounts.
  { name: BASE_USER, edge: "bareGrpcYoga", service: "bareGrpcService", body: (f) => userById(f.userId), check: (d) => d.user?.id },
  { name: "edge user(id), warm", edge: "bff", service: "identity", auth: "jwt", baseline: BASE_USER, body: (f) => userById(f.userId), check: (d) => d.user?.id },
  // Cold: every GetUser misses svc-identity's cache (a user nobody read before, each request), and
  // the same through a svc-identity with its read cache off (READ_CACHE_ENABLED=false).
  {
    name: "edge user(id), cache miss",
    edge: "bff",
    service: "identity",
    auth: "jwt",
    baseline: BASE_USER,
    body: (f) => userById(f.coldIds[0]),
    bodies: (f) => {
      let next = 1;
      return () => userById(f.coldIds[next++ % f.coldIds.length]);
    },
    check: (d) => d.user?.id,
  },
  { name: "edge user(id), cache off", edge: "bffCold", service: "identityCold", auth: "jwt", baseline: BASE_USER, body: (f) => userById(f.userId), check: (d) => d.user?.id },
  { name: BASE_USERS, edge: "bareGrpcYoga", service: "bareGrpcService", body: () => USERS_50, check: (d) => d.users?.nodes?.length === 50 },
  { name: "edge users(50)", edge: "bff", service: "identity", auth: "jwt", baseline: BASE_USERS, body: () => USERS_50, check: (d) => d.users?.nodes?.length === 50 },
  // Billing (issue 8): a redemption end to end (every request a new transaction of a new customer)
  // beside the same row written by one raw INSERT; a Redis-warm campaign read beside the bare static query.
  { name: BASE_REDEEM, edge: "barePgRows", body: () => "{}", bodies: () => () => "{}", check: (d) => d.redeem?.id },
  { name: BASE_REDEEM_ONE, edge: "barePgRowsOne", body: () => "{}", bodies: () => () => "{}", check: (d) => d.redeem?.id },
  { name: REF_REDEEM_INSERT, edge: "barePgInsert", body: () => "{}", bodies: () => () => "{}", check: (d) => d.redeem?.id },
  {
    name: "edge redeem",
    edge: "bff",
    service: "billing",
    auth: "jwt",
    baseline: BASE_REDEEM,
    body: (f) => redeem(f.benchOfferIds[0], "first"),
    bodies: (f) => {
      let n = 0;
      return () => redeem(f.benchOfferIds[n % f.benchOfferIds.length], `customer-${n++}`);
    },
    check: (d) => d.redeem?.id,
  },
  {
    name: "edge redeem, one campaign",
    edge: "bff",
    service: "billing",
    auth: "jwt",
    baseline: BASE_REDEEM_ONE,
    body: (f) => redeem(f.benchOfferId, "first"),
    bodies: (f) => {
      let n = 0;
      return () => redeem(f.benchOfferId, `one-${n++}`);
    },
    check: (d) => d.redeem?.id,
  },
  { name: "edge campaign(id), warm", edge: "bff", service: "billing", auth: "jwt", baseline: BARE_ME, body: (f) => campaignById(f.benchCampaignId), check: (d) => d.campaign?.id },
];

/** The scenarios whose name contains `only` (all without it), with the baselines they need, in list order. */
export function selectScenarios(only) {
  const chosen = new Set(SCENARIOS.filter((s) => !only || s.name.includes(only)).map((s) => s.name));
  for (const s of SCENARIOS) if (chosen.has(s.name) && s.baseline) chosen.add(s.baseline);
  return {
    scenarios: SCENARIOS.filter((s) => chosen.has(s.name)),
    noisyNeighbour: !only || NOISY_NEIGHBOUR.includes(only),
  };
}

export function listScenarios() {
  for (const s of SCENARIOS) console.log(`${s.name}${s.baseline ? `   (beside: ${s.baseline})` : "   (a baseline)"}`);
  console.log(NOISY_NEIGHBOUR);
  console.log(INSIGHTS);
}
