import { createServiceTokenMinter } from "@apgms/common/service-token";
import { generateServiceKeyPair, parseSigningKey } from "@apgms/common/service-token-keys";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { startEdge } from "./support.js";

/**
 * An edge whose service key svc-identity does not trust: its own
 * misconfiguration must look like an outage (503, logged), never like the
 * caller's bad credentials (401), or every API key would seem revoked.
 */
describe("an edge with an untrusted service key", function () {
  this.timeout(30_000);
  let s: Stack;
  let identity: IdentityClients;
  let app: App;
  let url: string;
  let apiKey: string;

  before(async () => {
    s = await getStack();
    const created = await s.as(s.a.users.owner, 'mutation { createApiKey(input: { name: "untrusted-edge", scopes: ["identity:read"] }) { secret } }');
    apiKey = (created.body.data as { createApiKey: { secret: string } }).createApiKey.secret;
    const foreign = createServiceTokenMinter({ key: parseSigningKey(generateServiceKeyPair().privateKeyPem), issuer: "bff" });
    identity = createIdentityClients(s.identityAddress, { timeoutMs: 5_000, serviceTokens: foreign });
    ({ app, url } = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity, redis: s.redis, config: { AUTH_CACHE_SECONDS: 0, IDENTITY_GRPC_ADDRESS: s.identityAddress } }));
  });
  after(async () => {
    await app?.close(1_000);
    identity?.close();
  });

  const me = async (headers: Record<string, string>) => {
    const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query: "{ me { kind } }" }) });
    return { status: res.status, body: (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> } };
  };

  it("answers a valid API key with 503, not 401", async () => {
    const res = await me({ "x-api-key": apiKey });
    expect(res.status).to.equal(503);
    expect(res.body.errors?.[0]?.extensions?.code).to.equal("SERVICE_UNAVAILABLE");
    expect((await s.gql("{ me { kind } }", {}, { apiKey })).status, "the same key through a trusted edge").to.equal(200);
  });

  it("answers a valid bearer token with 503", async () => {
    expect((await me({ authorization: `Bearer ${s.token(s.a.users.viewer.subject)}` })).status).to.equal(503);
  });
});
