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
  });

  it("lets a member sign up another tenant, and choose it with the X-APGMS-Tenant header", async () => {
    const subject = newSubject();
    const token = s.token(subject);
    const slug1 = `multi-${randomBytes(3).toString("hex")}`;
    const slug2 = `${slug1}-2`;
    expect((await s.gql(SIGN_UP, { i: { tenantName: "One", slug: slug1 } }, { token })).body.errors).to.equal(undefined);
    expect((await s.gql("{ signUpAvailable }", {}, { token })).body.data).to.deep.equal({ signUpAvailable: true });
    const second = await s.gql(SIGN_UP, { i: { tenantName: "Two", slug: slug2 } }, { token });
    expect(second.body.errors, JSON.stringify(second.body.errors)).to.equal(undefined);
    const list = await s.gql("{ memberships { role tenant { slug } } }", {}, { token });
    expect(list.body.data).to.deep.equal({ memberships: [{ role: "OWNER", tenant: { slug: slug1 } }, { role: "OWNER", tenant: { slug: slug2 } }] });
    const byDefault = await s.gql("{ me { tenant { slug } } }", {}, { token });
    expect(byDefault.body.data).to.deep.equal({ me: { tenant: { slug: slug1 } } });
    const chosen = await s.gql("{ me { tenant { slug } } }", {}, { token, headers: { "x-apgms-tenant": slug2 } });
    expect(chosen.body.data).to.deep.equal({ me: { tenant: { slug: slug2 } } });
    expect(chosen.headers.get("x-apgms-tenant")).to.equal((second.body.data as { signUp: { tenantId: string } }).signUp.tenantId);
    // A tenant it does not belong to is as if it belonged to none.
    const foreign = await s.gql("{ me { kind } }", {}, { token, headers: { "x-apgms-tenant": s.a.slug } });
    expect(foreign.status).to.equal(401);
    const malformed = await s.gql("{ me { kind } }", {}, { token, headers: { "x-apgms-tenant": "no such/tenant" } });
    expect(malformed.status).to.equal(401);
    expect(malformed.headers.get("www-authenticate")).to.include('error="invalid_request"');
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

  it("reports a bad argument of its own operations as input, not as a missing sign-in", async () => {
    const token = s.token(newSubject());
    const res = await s.gql("mutation { restoreTenant(id: \"not-a-uuid\") { id } }", {}, { token });
    expect(res.status).to.equal(200);
    expect(errorCode(res)).to.equal("BAD_USER_INPUT");
    expect(res.body.errors![0]!.extensions!.field).to.equal("id");
    const missing = await s.gql("mutation { restoreTenant { id } }", {}, { token });
    expect(errorCode(missing)).to.equal("BAD_USER_INPUT");
    expect((await s.gql("{ tenant { id } }", {}, { token })).status).to.equal(401);
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

    const post = async (query: string, variables: Record<string, unknown>, token: string) => {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> } };
    };

    it("says so and refuses signUp with FORBIDDEN, creating nothing; other operations stay 401", async () => {
      const token = s.token(newSubject());
      expect((await post("{ signUpAvailable }", {}, token)).body.data).to.deep.equal({ signUpAvailable: false });
      const slug = `x-${randomBytes(3).toString("hex")}`;
      const res = await post(SIGN_UP, { i: { tenantName: "X", slug } }, token);
      expect(res.body.errors?.[0]?.extensions?.code).to.equal("FORBIDDEN");
      expect((await s.pg.query("select count(*)::int n from identity.tenants where slug = $1", [slug])).rows[0].n).to.equal(0);
      const me = await post("{ me { kind } }", {}, token);
      expect(me.status).to.equal(401);
      expect(me.headers.get("www-authenticate")).to.include("Bearer");
    });
  });
});
