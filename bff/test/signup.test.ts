import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { AUDIENCE, errorCode, getStack, type Stack } from "./stack.js";
import { startEdge } from "./support.js";

const SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { tenantId tenantSlug accountId userId } }";

describe("sign-up of an identity linked to no user", () => {
  let s: Stack;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  const newSubject = () => `newcomer-${randomBytes(4).toString("hex")}@signup.test`;

  it("creates a tenant with the identity as its owner, who can then use the API", async () => {
    const subject = newSubject();
    const token = s.token(subject, { claims: { name: "New Comer" } });
    expect((await s.gql("{ signUpAvailable }", {}, { token })).body.data).to.deep.equal({ signUpAvailable: true });
    const slug = `acme-${randomBytes(3).toString("hex")}`;
    const res = await s.gql(SIGN_UP, { i: { tenantName: "Acme", slug } }, { token });
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    const result = (res.body.data as { signUp: { tenantId: string; tenantSlug: string; userId: string } }).signUp;
    expect(result.tenantSlug).to.equal(slug);
    const me = await s.gql("{ me { user { id email displayName role } tenant { id slug deletionProtection } } }", {}, { token });
    expect(me.status).to.equal(200);
    expect(me.body.data).to.deep.equal({
      me: { user: { id: result.userId, email: subject, displayName: "New Comer", role: "OWNER" }, tenant: { id: result.tenantId, slug, deletionProtection: true } },
    });
    const again = await s.gql(SIGN_UP, { i: { tenantName: "Acme 2", slug: `${slug}-2` } }, { token });
    expect(errorCode(again)).to.equal("CONFLICT");
  });

  it("refuses a bad or taken slug naming the field, and creates nothing", async () => {
    const token = s.token(newSubject());
    const bad = await s.gql(SIGN_UP, { i: { tenantName: "Bad", slug: "Not A Slug!" } }, { token });
    expect(errorCode(bad)).to.equal("BAD_USER_INPUT");
    expect(bad.body.errors![0]!.extensions!.field).to.equal("slug");
    const taken = await s.gql(SIGN_UP, { i: { tenantName: "Taken", slug: s.a.slug } }, { token });
    expect(errorCode(taken)).to.equal("CONFLICT");
    expect(taken.body.errors![0]!.extensions!.field).to.equal("slug");
    const empty = await s.gql(SIGN_UP, { i: { tenantName: "  ", slug: `ok-${randomBytes(3).toString("hex")}` } }, { token });
    expect(errorCode(empty)).to.equal("BAD_USER_INPUT");
    expect(empty.body.errors![0]!.extensions!.field).to.equal("tenantName");
    expect((await s.gql("{ me { kind } }", {}, { token })).status).to.equal(401);
  });

  it("answers anything but sign-up with 401 and a challenge", async () => {
    const res = await s.gql("{ me { kind } }", {}, { token: s.token(newSubject()) });
    expect(res.status).to.equal(401);
    expect(errorCode(res)).to.equal("UNAUTHENTICATED");
    expect(res.headers.get("www-authenticate")).to.include('error="invalid_token"');
  });

  it("needs an email claim", async () => {
    const token = s.token(`no-email-${randomBytes(3).toString("hex")}`, { email: undefined, claims: { email: undefined } });
    const res = await s.gql(SIGN_UP, { i: { tenantName: "X", slug: `x-${randomBytes(3).toString("hex")}` } }, { token });
    expect(errorCode(res)).to.equal("FAILED_PRECONDITION");
  });

  describe("when sign-up is off", () => {
    let app: App;
    let url: string;
    before(async () => {
      ({ app, url } = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity: s.identity, redis: s.redis, config: { SIGNUP_ENABLED: false } }));
    });
    after(() => app.close());

    it("refuses the sign-up of an unlinked identity with 401", async () => {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.token(newSubject())}` },
        body: JSON.stringify({ query: SIGN_UP, variables: { i: { tenantName: "X", slug: `x-${randomBytes(3).toString("hex")}` } } }),
      });
      expect(res.status).to.equal(401);
      expect(res.headers.get("www-authenticate")).to.include("Bearer");
    });
  });
});
