import { Writable } from "node:stream";
import { createLogger } from "@apgms/common/logger";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { AUDIENCE, getStack, type SeededUser, type Stack } from "./stack.js";
import { provisionTenant, startEdge } from "./support.js";

interface LogLine {
  level: string;
  msg: string;
  audit?: boolean;
  principal?: string;
  tenantId?: string;
  requestId?: string;
  mutation?: string[];
  outcome?: string;
  errors?: string[];
}

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

  async function run(user: SeededUser, query: string, variables: Record<string, unknown> = {}): Promise<LogLine> {
    const requestId = `audit-${Math.random().toString(36).slice(2)}`;
    await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.token(user.subject)}`, "x-request-id": requestId },
      body: JSON.stringify({ query, variables }),
    });
    const line = lines.find((l) => l.audit && l.requestId === requestId);
    expect(line, `audit line for ${requestId}`).to.not.equal(undefined);
    return line!;
  }

  it("records who did what in which tenant, and that it succeeded", async () => {
    const line = await run(s.a.users.admin, 'mutation { createAccount(input: { name: "Audited" }) { id } }');
    expect(line).to.deep.include({ principal: `user:${s.a.users.admin.id}`, tenantId: s.a.id, mutation: ["createAccount"], outcome: "ok", errors: [] });
  });

  it("records refusals with the codes the client saw, from the edge and from the service", async () => {
    const forbidden = await run(s.a.users.viewer, 'mutation { createAccount(input: { name: "No" }) { id } }');
    expect(forbidden).to.deep.include({ principal: `user:${s.a.users.viewer.id}`, outcome: "refused", errors: ["FORBIDDEN"] });
    const notFound = await run(s.a.users.admin, 'mutation($id: ID!) { updateAccount(id: $id, input: { name: "x" }) { id } }', { id: s.b.accountId });
    expect(notFound).to.deep.include({ outcome: "refused", errors: ["NOT_FOUND"] });
  });

  it("records the identity's own mutations before it has a user: a refused and a successful tenant restore", async () => {
    const t = await provisionTenant(s.identity, s.issuerUrl, `audit-restore-${Date.now()}`);
    await run(t.owner, "mutation { updateTenant(input: { deletionProtection: false }) { id } }");
    await run(t.owner, "mutation($c: String!) { deleteTenant(confirmation: $c) { id } }", { c: t.slug });
    const stranger = await run({ ...t.owner, subject: `stranger-${t.slug}` }, "mutation($id: ID!) { restoreTenant(id: $id) { id } }", { id: t.tenantId });
    expect(stranger).to.deep.include({ principal: `identity:${s.issuerUrl}#stranger-${t.slug}`, tenantId: t.tenantId, mutation: ["restoreTenant"], outcome: "refused", errors: ["NOT_FOUND"] });
    const owner = await run(t.owner, "mutation($id: ID!) { restoreTenant(id: $id) { id } }", { id: t.tenantId });
    expect(owner).to.deep.include({ principal: `identity:${s.issuerUrl}#${t.owner.subject}`, tenantId: t.tenantId, mutation: ["restoreTenant"], outcome: "ok", errors: [] });
  });

  it("writes nothing for queries, and no error lines for refusals", async () => {
    const before = lines.length;
    await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.token(s.a.users.viewer.subject)}` },
      body: JSON.stringify({ query: "{ accounts { nodes { id } } }" }),
    });
    expect(lines.slice(before).filter((l) => l.audit)).to.deep.equal([]);
    expect(lines.filter((l) => l.level === "error")).to.deep.equal([]);
  });
});
