import { randomBytes } from "node:crypto";
import { expect } from "chai";
import jwt from "jsonwebtoken";
import { generateSigningKey } from "../src/dev-oidc/keys.js";
import { mintToken } from "../src/dev-oidc/tokens.js";
import { AUDIENCE, errorCode, getStack, type GqlResponse, type Stack } from "./stack.js";

/** A proto-style name (snake_case or dotted) anywhere in a message. */
const PROTO_NAME = /\b[a-z]+(?:_[a-z]+)+\b|\bpage\.page_/;

describe("errors speak the caller's GraphQL names", () => {
  let s: Stack;
  let keyId: string;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    const res = await s.as(s.a.users.owner, 'mutation { createApiKey(input: { name: "lang", scopes: ["identity:read"] }) { apiKey { id } } }');
    keyId = (res.body.data as { createApiKey: { apiKey: { id: string } } }).createApiKey.apiKey.id;
  });

  const expectInputError = (res: GqlResponse, field: string, code = "BAD_USER_INPUT") => {
    const error = res.body.errors?.[0];
    expect(errorCode(res), JSON.stringify(res.body)).to.equal(code);
    expect(error?.extensions?.field).to.equal(field);
    expect(error?.message).to.not.match(PROTO_NAME);
    return error!.message;
  };

  it("names gracePeriodSeconds, not grace_period_seconds", async () => {
    const res = await s.as(s.a.users.owner, "mutation($id: ID!) { rotateApiKey(id: $id, gracePeriodSeconds: -1) { secret } }", { id: keyId });
    expect(expectInputError(res, "gracePeriodSeconds")).to.match(/^gracePeriodSeconds: must be between/);
  });

  it("names expiresAt, not expire_time, for a time in the past", async () => {
    const res = await s.as(s.a.users.owner, 'mutation { createApiKey(input: { name: "x", scopes: ["identity:read"], expiresAt: "2001-01-01T00:00:00Z" }) { secret } }');
    expect(expectInputError(res, "expiresAt")).to.equal("expiresAt: must be in the future");
  });

  it("names expiresAt for a DateTime that does not parse: a literal, a variable, and a field of an input variable", async () => {
    const literal = await s.as(s.a.users.owner, 'mutation { createApiKey(input: { name: "x", scopes: ["identity:read"], expiresAt: "tomorrow" }) { secret } }');
    expect(expectInputError(literal, "expiresAt")).to.include('"tomorrow" is not an ISO 8601 date-time');
    const variable = await s.as(
      s.a.users.owner,
      'mutation($when: DateTime) { createApiKey(input: { name: "x", scopes: ["identity:read"], expiresAt: $when }) { secret } }',
      { when: "tomorrow" },
    );
    expectInputError(variable, "expiresAt");
    const input = await s.as(s.a.users.owner, "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }", {
      i: { name: "x", scopes: ["identity:read"], expiresAt: "tomorrow" },
    });
    expectInputError(input, "expiresAt");
  });

  it("names first and after, not page.page_size and page.page_token", async () => {
    const first = await s.as(s.a.users.owner, "{ accounts(first: -1) { nodes { id } } }");
    expect(expectInputError(first, "first")).to.equal("first: must not be negative");
    const after = await s.as(s.a.users.owner, '{ users(after: "bogus") { nodes { id } } }');
    expect(expectInputError(after, "after")).to.match(/^after: /);
  });

  it("names oidcSubject, not oidc_subject, in a conflict", async () => {
    const key = await s.as(s.a.users.owner, 'mutation { createApiKey(input: { name: "prov", scopes: ["identity:provision"] }) { secret } }');
    const secret = (key.body.data as { createApiKey: { secret: string } }).createApiKey.secret;
    const input = {
      accountId: s.a.accountId,
      email: `dup-${randomBytes(3).toString("hex")}@lang.test`,
      displayName: "Dup",
      role: "VIEWER",
      oidcSubject: s.a.users.viewer.subject,
    };
    const res = await s.gql("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", { i: input }, { apiKey: secret });
    expect(expectInputError(res, "oidcSubject", "CONFLICT")).to.equal("oidcSubject is already taken");
  });

  describe("token refusals", () => {
    const refusal = async (token: string) => {
      const res = await s.gql("{ me { kind } }", {}, { token });
      expect(res.status).to.equal(401);
      expect(errorCode(res)).to.equal("UNAUTHENTICATED");
      const message = res.body.errors?.[0]?.message ?? "";
      expect(res.headers.get("www-authenticate")).to.include(`error_description="${message.replace(/"/g, "")}"`);
      expect(message).to.not.include("secret or public key");
      return message;
    };
    const claims = () => ({ issuer: s.issuerUrl, audience: AUDIENCE, subject: s.a.users.owner.subject });
    const SIGNATURE = "token signature is not valid or its signing key is unknown";

    it("a token signed by another key under a kid the JWKS has", async () => {
      const other = generateSigningKey();
      expect(await refusal(mintToken({ ...other, kid: s.key.kid }, claims()))).to.equal(SIGNATURE);
    });

    it("a token signed by a key whose kid the JWKS does not have", async () => {
      expect(await refusal(mintToken(generateSigningKey(), claims()))).to.equal(SIGNATURE);
    });

    it("an expired token says when it expired", async () => {
      const message = await refusal(s.token(s.a.users.owner.subject, { ttlSeconds: -120 }));
      expect(message).to.match(/^token expired at \d{4}-\d{2}-\d{2}T/);
    });

    it("a token of another issuer names it and the trusted one", async () => {
      const message = await refusal(s.token(s.a.users.owner.subject, { issuer: "https://elsewhere.example" }));
      expect(message).to.equal(`token issuer "https://elsewhere.example" is not trusted (expected ${s.issuerUrl})`);
    });

    it("a token for another audience names the audience it must include", async () => {
      expect(await refusal(s.token(s.a.users.owner.subject, { audience: "someone-else" }))).to.equal(`token audience must include ${AUDIENCE}`);
    });

    it("a token signed with HS256 or not a JWT at all", async () => {
      const hs = jwt.sign({ sub: "x", iss: s.issuerUrl, aud: AUDIENCE }, "a-shared-secret");
      expect(await refusal(hs)).to.equal('token must be signed with RS256, not "HS256"');
      expect(await refusal("abc.def.ghi")).to.match(/^token is not a well-formed JWT/);
    });
  });
});
