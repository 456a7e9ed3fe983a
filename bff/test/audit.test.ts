import { Writable } from "node:stream";
import { createLogger } from "@apgms/common/logger";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { AUDIENCE, getStack, type SeededUser, type Stack } from "./stack.js";
import { provisionTenant, startEdge } from "./support.js";

interface AuditFields {
  principal: string;
  tenantId: string;
  requestId: string;
  action: string;
  outcome: string;
  errorCodes: string[];
  targetIds: string[];
}
interface LogLine {
  level: string;
  msg: string;
  audit?: AuditFields;
}

/** The audit trail's log line of each mutation (its stored and exported forms: security-audit.test.ts). */
describe("audit log of mutations", () => {
  let s: Stack;
  let app: App;
  let url: string;
  const lines: LogLine[] = [];

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString("utf8").split("\n")) if (l) lines.push(JSON.parse(l) as LogLine);
        done();
      },
    });
    ({ app, url } = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity: s.identity, redis: s.redis, logger: createLogger("bff", { level: "info" }, sink) }));
  });
  after(() => app.close());

  async function run(user: SeededUser, query: string, variables: Record<string, unknown> = {}): Promise<AuditFields> {
    const requestId = `audit-${Math.random().toString(36).slice(2)}`;
    await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.token(user.subject)}`, "x-request-id": requestId },
      body: JSON.stringify({ query, variables }),
    });
    // Each call's fresh token is also a sign-in; the mutation's own record is the other one.
    const found = lines.filter((l) => l.audit?.requestId === requestId && l.audit.action !== "auth.signIn");
    expect(found, `audit lines for ${requestId}`).to.have.length(1);
    return found[0]!.audit!;
  }

  it("records who did what in which tenant, and that it succeeded", async () => {
    const line = await run(s.a.users.admin, 'mutation { createAccount(input: { name: "Audited" }) { id } }');
    expect(line).to.deep.include({ principal: `user:${s.a.users.admin.id}`, tenantId: s.a.id, action: "createAccount", outcome: "ok", errorCodes: [] });
    expect(line.targetIds).to.have.length(1);
  });

  it("records refusals with the codes the client saw, from the edge and from the service", async () => {
    const forbidden = await run(s.a.users.viewer, 'mutation { createAccount(input: { name: "No" }) { id } }');
    expect(forbidden).to.deep.include({ principal: `user:${s.a.users.viewer.id}`, outcome: "refused", errorCodes: ["FORBIDDEN"] });
    const notFound = await run(s.a.users.admin, 'mutation($id: ID!) { updateAccount(id: $id, input: { name: "x" }) { id } }', { id: s.b.accountId });
    expect(notFound).to.deep.include({ outcome: "refused", errorCodes: ["NOT_FOUND"], targetIds: [s.b.accountId] });
  });

  it("records the identity's own mutations before it has a user: a refused and a successful tenant restore", async () => {
    const t = await provisionTenant(s.identity, s.issuerUrl, `audit-restore-${Date.now()}`);
    await run(t.owner, "mutation { updateTenant(input: { deletionProtection: false }) { id } }");
    await run(t.owner, "mutation($c: String!) { deleteTenant(confirmation: $c) { id } }", { c: t.slug });
    const stranger = await run({ ...t.owner, subject: `stranger-${t.slug}` }, "mutation($id: ID!) { restoreTenant(id: $id) { id } }", { id: t.tenantId });
    expect(stranger).to.deep.include({ principal: `identity:${s.issuerUrl}#stranger-${t.slug}`, tenantId: t.tenantId, action: "restoreTenant", outcome: "refused", errorCodes: ["NOT_FOUND"] });
    const owner = await run(t.owner, "mutation($id: ID!) { restoreTenant(id: $id) { id } }", { id: t.tenantId });
    // The subject is an email here: masked.
    expect(owner).to.deep.include({ principal: `identity:${s.issuerUrl}#o***@${t.slug}.test`, tenantId: t.tenantId, action: "restoreTenant", outcome: "ok", errorCodes: [] });
  });

  it("writes nothing for queries, and no error lines for refusals", async () => {
    const before = lines.length;
    await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.token(s.a.users.viewer.subject)}` },
      body: JSON.stringify({ query: "{ accounts { nodes { id } } }" }),
    });
    // The fresh token is a sign-in (a security event); the query itself leaves nothing.
    expect(lines.slice(before).filter((l) => l.audit && l.audit.action !== "auth.signIn")).to.deep.equal([]);
    expect(lines.filter((l) => l.level === "error")).to.deep.equal([]);
  });
});
