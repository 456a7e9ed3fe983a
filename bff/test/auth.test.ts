import { expect } from "chai";
import jwt from "jsonwebtoken";
import { generateSigningKey } from "../src/dev-oidc/keys.js";
import { mintToken } from "../src/dev-oidc/tokens.js";
import { AUDIENCE, errorCode, getStack, type GqlResponse, type Stack } from "./stack.js";

const ME = "{ me { kind user { email role } tenant { id } } }";

function expectRefused(res: GqlResponse, error = "invalid_token"): void {
  expect(res.status).to.equal(401);
  expect(errorCode(res)).to.equal("UNAUTHENTICATED");
  const challenge = res.headers.get("www-authenticate");
  expect(challenge).to.be.a("string").and.include('Bearer realm="apgms"');
  if (error) expect(challenge).to.include(`error="${error}"`);
  expect(res.body.data ?? undefined).to.equal(undefined);
}

describe("edge authentication", () => {
  let s: Stack;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  it("answers me for a valid token with the user, tenant and scoping header", async () => {
    const res = await s.gql(ME, {}, { token: s.token(s.a.users.admin.subject) });
    expect(res.status).to.equal(200);
    expect(res.body.errors).to.equal(undefined);
    expect(res.body.data).to.deep.equal({ me: { kind: "USER", user: { email: s.a.users.admin.email, role: "ADMIN" }, tenant: { id: s.a.id } } });
    expect(res.headers.get("x-apgms-tenant")).to.equal(s.a.id);
  });

  it("records the sign-in as a session", async () => {
    const sid = `sid-${Date.now()}`;
    await s.gql(ME, {}, { token: s.token(s.a.users.viewer.subject, { sid }), headers: { "user-agent": "mocha-test" } });
    const rows = await s.pg.query("select user_agent from identity.sessions where session_key = $1 and user_id = $2", [sid, s.a.users.viewer.id]);
    expect(rows.rows).to.deep.equal([{ user_agent: "mocha-test" }]);
  });

  it("rejects a request without credentials", async () => {
    expectRefused(await s.gql(ME), "");
  });

  it("rejects an expired token", async () => {
    expectRefused(await s.gql(ME, {}, { token: s.token(s.a.users.owner.subject, { claims: { exp: Math.floor(Date.now() / 1000) - 120 } }) }));
  });

  it("rejects a token from another issuer", async () => {
    expectRefused(await s.gql(ME, {}, { token: s.token(s.a.users.owner.subject, { issuer: "https://evil.example.com" }) }));
  });

  it("rejects a token for another audience", async () => {
    expectRefused(await s.gql(ME, {}, { token: s.token(s.a.users.owner.subject, { audience: "someone-else" }) }));
  });

  it("rejects an unsigned token (alg: none)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ iss: s.issuerUrl, aud: AUDIENCE, sub: s.a.users.owner.subject, iat: now, exp: now + 600 }, "", {
      algorithm: "none",
      keyid: s.key.kid,
    });
    expectRefused(await s.gql(ME, {}, { token }));
  });

  it("rejects an HS256 token signed with the issuer's public key", async () => {
    const now = Math.floor(Date.now() / 1000);
    const publicPem = (await import("node:crypto")).createPublicKey(s.key.privateKeyPem).export({ format: "pem", type: "spki" }).toString();
    const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid: s.key.kid })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ iss: s.issuerUrl, aud: AUDIENCE, sub: s.a.users.owner.subject, iat: now, exp: now + 600 })).toString("base64url");
    const { createHmac } = await import("node:crypto");
    const sig = createHmac("sha256", publicPem).update(`${header}.${payload}`).digest("base64url");
    expectRefused(await s.gql(ME, {}, { token: `${header}.${payload}.${sig}` }));
  });

  it("rejects a token signed with an unknown key", async () => {
    const rogue = generateSigningKey();
    const token = mintToken(rogue, { issuer: s.issuerUrl, audience: AUDIENCE, subject: s.a.users.owner.subject });
    expectRefused(await s.gql(ME, {}, { token }));
  });

  it("rejects a malformed Authorization header", async () => {
    expectRefused(await s.gql(ME, {}, { headers: { authorization: "Bearer" } }), "invalid_request");
    expectRefused(await s.gql(ME, {}, { headers: { authorization: "Bearer a b" } }), "invalid_request");
    expectRefused(await s.gql(ME, {}, { headers: { authorization: "Basic dXNlcjpwYXNz" } }), "invalid_request");
    expectRefused(await s.gql(ME, {}, { token: "not.a.jwt" }));
  });

  it("rejects a valid token whose subject is linked to no user", async () => {
    expectRefused(await s.gql(ME, {}, { token: s.token("nobody@nowhere.test") }));
  });
});
