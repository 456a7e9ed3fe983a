import { randomBytes, randomUUID } from "node:crypto";
import { auditStream } from "@apgms/common/audit/stream";
import { connectNats } from "@apgms/common/nats/connect";
import { jetstream } from "@apgms/common/nats/jetstream";
import { TEST_NATS_URL } from "@apgms/common/testing/nats";
import { auditBatchHeaders } from "@apgms/common/audit/jetstream-sink";
import { AuditEvent, AuditEventBatch, AuditOutcome } from "@apgms/proto/apgms/identity/v1/audit";
import { expect } from "chai";
import { startAuditStack, type AuditStack } from "./audit-stack.js";
import type { GqlResponse } from "./stack.js";
import { waitFor } from "./support.js";

interface Expected {
  action: string;
  principal: string;
  outcome: "ok" | "refused" | "failed";
  /** Ids the record must name. */
  targets?: string[];
}

interface StoredRow {
  id: string;
  tenant_id: string | null;
  principal: string;
  action: string;
  target_ids: string[];
  outcome: string;
  error_codes: string[];
  request_id: string;
  details: Record<string, string>;
}

const data = <T>(res: GqlResponse, field: string): T => {
  if (res.body.errors) throw new Error(`unexpected errors: ${JSON.stringify(res.body.errors)}`);
  return (res.body.data as Record<string, T>)[field]!;
};

describe("security: the audit trail", function () {
  this.timeout(120_000);
  let s: AuditStack;
  before(async function () {
    this.timeout(60_000);
    s = await startAuditStack();
  });
  after(async function () {
    this.timeout(30_000);
    await s?.close();
  });

  const rowsFor = async (requestIds: string[]): Promise<StoredRow[]> =>
    (await s.pg.query<StoredRow>("SELECT * FROM identity.audit_events WHERE request_id = ANY($1::text[])", [requestIds])).rows;

  /** Waits until every request id has a stored record (the consumer is asynchronous). */
  async function storedFor(requestIds: string[], timeoutMs = 20_000): Promise<StoredRow[]> {
    await s.flush();
    await waitFor("audit records stored", async () => new Set((await rowsFor(requestIds)).map((r) => r.request_id)).size === requestIds.length, timeoutMs);
    // A little longer: a duplicate would arrive now, not later.
    await new Promise((r) => setTimeout(r, 300));
    return rowsFor(requestIds);
  }

  it("records each action of a scripted session exactly once, stored and exported over OTLP, with secrets and emails redacted", async () => {
    const expected = new Map<string, Expected>();
    const secrets: string[] = [];
    const ownerToken = s.token(s.owner.subject);
    const adminToken = s.token(s.admin.subject);
    secrets.push(ownerToken, adminToken, s.owner.subject, s.admin.subject);
    const owner = `user:${s.owner.id}`;
    const admin = `user:${s.admin.id}`;

    /** Sends one request under a request id of its own; `audited` is the record it must leave. */
    async function step(name: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}, audited?: Expected, headers: Record<string, string> = {}) {
      const requestId = `audit-${name}-${randomBytes(3).toString("hex")}`;
      if (audited) expected.set(requestId, audited);
      return s.gql(query, variables, { "x-request-id": requestId, ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers });
    }

    // Sign-in: the session's first request.
    await step("sign-in", ownerToken, "{ me { kind } }", {}, { action: "auth.signIn", principal: owner, outcome: "ok" });

    // API key created (only the secret selected: the record still names the key), rotated, revoked.
    const created = data<{ secret: string }>(
      await step("create-key", ownerToken, `mutation { createApiKey(input: { name: "ci", scopes: ["identity:read"] }) { secret } }`, {}, { action: "createApiKey", principal: owner, outcome: "ok" }),
      "createApiKey",
    );
    secrets.push(created.secret);
    const keyId = data<{ nodes: Array<{ id: string }> }>(await s.gql("{ apiKeys { nodes { id } } }", {}, { authorization: `Bearer ${ownerToken}` }), "apiKeys").nodes[0]!.id;
    for (const [, e] of expected) if (e.action === "createApiKey") e.targets = [keyId];
    const rotated = data<{ secret: string }>(
      await step("rotate-key", ownerToken, "mutation($id: ID!) { rotateApiKey(id: $id, gracePeriodSeconds: 60) { secret } }", { id: keyId }, { action: "rotateApiKey", principal: owner, outcome: "ok", targets: [keyId] }),
      "rotateApiKey",
    );
    secrets.push(rotated.secret);
    data(await step("revoke-key", ownerToken, "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", { id: keyId }, { action: "revokeApiKey", principal: owner, outcome: "ok", targets: [keyId] }), "revokeApiKey");

    // Role changed.
    data(
      await step("role", ownerToken, "mutation($id: ID!) { updateUser(id: $id, input: { role: ANALYST }) { role } }", { id: s.admin.id }, { action: "updateUser", principal: owner, outcome: "ok", targets: [s.admin.id] }),
      "updateUser",
    );

    // The former admin signs in, and is refused a key (now an analyst): a refused mutation is audited too.
    await step("admin-sign-in", adminToken, "{ me { kind } }", {}, { action: "auth.signIn", principal: admin, outcome: "ok" });
    const refused = await step("refused", adminToken, `mutation { createApiKey(input: { name: "x", scopes: ["identity:read"] }) { secret } }`, {}, { action: "createApiKey", principal: admin, outcome: "refused" });
    expect(refused.body.errors?.[0]?.extensions?.code).to.equal("FORBIDDEN");

    // Session revoked.
    const sessionId = data<{ nodes: Array<{ id: string }> }>(
      await s.gql("query($u: ID!) { sessions(userId: $u) { nodes { id } } }", { u: s.admin.id }, { authorization: `Bearer ${ownerToken}` }),
      "sessions",
    ).nodes[0]!.id;
    data(await step("revoke-session", ownerToken, "mutation($id: ID!) { revokeSession(id: $id) { id } }", { id: sessionId }, { action: "revokeSession", principal: owner, outcome: "ok", targets: [sessionId] }), "revokeSession");

    // Failed authentication: an API key that does not exist.
    const bogusKey = `apgms_${randomBytes(24).toString("base64url")}`;
    secrets.push(bogusKey);
    const failed = await step("failed-auth", undefined, "{ me { kind } }", {}, { action: "auth.failed", principal: "client:127.0.0.0", outcome: "refused" }, { "x-api-key": bogusKey });
    expect(failed.status).to.equal(401);

    // Invitation created and accepted (by an identity with no user yet), another created and revoked.
    const email = `new.person.${randomBytes(2).toString("hex")}@${s.tenant.slug}.test`;
    secrets.push(email);
    const invited = data<{ code: string; invitation: { id: string } }>(
      await step("invite", ownerToken, "mutation($i: InviteUserInput!) { inviteUser(input: $i) { code invitation { id } } }", { i: { accountId: s.tenant.accountId, email, role: "VIEWER" } }, { action: "inviteUser", principal: owner, outcome: "ok" }),
      "inviteUser",
    );
    secrets.push(invited.code);
    const joinerToken = s.token(`joiner-${randomBytes(3).toString("hex")}`, { email });
    secrets.push(joinerToken);
    data(
      await step("accept", joinerToken, "mutation($c: String!) { acceptInvitation(code: $c) { userId } }", { c: invited.code }, { action: "acceptInvitation", principal: "identity:", outcome: "ok", targets: [s.tenant.id] }),
      "acceptInvitation",
    );
    const second = data<{ code: string; invitation: { id: string } }>(
      await s.gql("mutation($i: InviteUserInput!) { inviteUser(input: $i) { code invitation { id } } }", { i: { accountId: s.tenant.accountId, email: `second@${s.tenant.slug}.test`, role: "VIEWER" } }, { authorization: `Bearer ${ownerToken}` }),
      "inviteUser",
    );
    secrets.push(second.code);
    data(
      await step("revoke-invitation", ownerToken, "mutation($id: ID!) { revokeInvitation(id: $id) { id } }", { id: second.invitation.id }, { action: "revokeInvitation", principal: owner, outcome: "ok", targets: [second.invitation.id] }),
      "revokeInvitation",
    );

    // Tenant deletion requested, then restored by its owner (who, meanwhile, belongs to no live tenant).
    data(await s.gql("mutation { updateTenant(input: { deletionProtection: false }) { id } }", {}, { authorization: `Bearer ${ownerToken}` }), "updateTenant");
    data(await step("delete-tenant", ownerToken, "mutation($c: String!) { deleteTenant(confirmation: $c) { id } }", { c: s.tenant.slug }, { action: "deleteTenant", principal: owner, outcome: "ok" }), "deleteTenant");
    data(await step("restore-tenant", ownerToken, "mutation($id: ID!) { restoreTenant(id: $id) { id } }", { id: s.tenant.id }, { action: "restoreTenant", principal: "identity:", outcome: "ok", targets: [s.tenant.id] }), "restoreTenant");

    // Stored: exactly one record per audited request, with the facts it must carry.
    const rows = await storedFor([...expected.keys()]);
    expect(rows.map((r) => r.request_id).sort()).to.deep.equal([...expected.keys()].sort());
    for (const row of rows) {
      const want = expected.get(row.request_id)!;
      expect(row.action, row.request_id).to.equal(want.action);
      expect(row.outcome, row.request_id).to.equal(want.outcome);
      if (want.principal.endsWith(":")) expect(row.principal, row.request_id).to.match(new RegExp(`^${want.principal}http://127\\.0\\.0\\.1:\\d+#`));
      else expect(row.principal, row.request_id).to.equal(want.principal);
      for (const t of want.targets ?? []) expect(row.target_ids, row.request_id).to.include(t);
      expect(row.tenant_id, row.request_id).to.equal(want.action === "auth.failed" ? null : s.tenant.id);
      if (want.outcome === "refused" && want.action !== "auth.failed") expect(row.error_codes).to.deep.equal(["FORBIDDEN"]);
    }
    const roleChange = rows.find((r) => r.action === "updateUser")!;
    expect(roleChange.details).to.include({ role: "ANALYST" });
    const invite = rows.find((r) => r.action === "inviteUser")!;
    expect(invite.details.email).to.match(/^n\*\*\*@audit-[0-9a-f]+\.test$/);

    // Through GraphQL, for the owner: the tenant's records, newest first, paged.
    const listed: Array<{ id: string; requestId: string; action: string }> = [];
    let after: string | null = null;
    do {
      const page: { nodes: Array<{ id: string; requestId: string; action: string }>; pageInfo: { endCursor: string | null } } = data(
        await s.gql("query($after: String) { auditEvents(first: 5, after: $after) { nodes { id requestId action occurredAt outcome principal targetIds details { key value } } pageInfo { endCursor } } }", { after }, { authorization: `Bearer ${ownerToken}` }),
        "auditEvents",
      );
      listed.push(...page.nodes);
      after = page.pageInfo.endCursor;
    } while (after);
    for (const row of rows.filter((r) => r.tenant_id)) {
      expect(listed.filter((e) => e.requestId === row.request_id), row.request_id).to.have.length(1);
    }
    const filtered = data<{ nodes: Array<{ requestId: string }> }>(
      await s.gql("query($p: String) { auditEvents(action: \"createApiKey\", principal: $p) { nodes { requestId } } }", { p: owner }, { authorization: `Bearer ${ownerToken}` }),
      "auditEvents",
    );
    expect(filtered.nodes.map((n) => expected.get(n.requestId)?.action)).to.deep.equal(["createApiKey"]);

    // Exported: each stored record exactly once as an OTLP log record, with the same facts.
    await s.flush();
    for (const row of rows) {
      const exported = s.receiver.logs.filter((l) => l.attributes["audit.id"] === row.id);
      expect(exported, row.request_id).to.have.length(1);
      expect(exported[0]!.attributes["audit.action"]).to.equal(row.action);
      expect(exported[0]!.attributes["audit.request_id"]).to.equal(row.request_id);
      expect(exported[0]!.attributes["audit.principal"]).to.equal(row.principal);
      expect(exported[0]!.service).to.equal("bff");
    }

    // Redacted everywhere: no secret, token, code or plain email in the stored, exported or logged records.
    const storedText = JSON.stringify((await s.pg.query("SELECT * FROM identity.audit_events")).rows);
    const exportedText = s.receiver.logs.map((l) => l.raw).join("\n");
    const auditLines = s.logLines.filter((l) => l.includes('"audit":{')).join("\n");
    expect(auditLines).to.include(rows[0]!.id);
    for (const secret of secrets) {
      expect(storedText, "stored trail").not.to.include(secret);
      expect(exportedText, "OTLP export").not.to.include(secret);
      expect(auditLines, "audit log lines").not.to.include(secret);
    }
  });

  it("refuses the trail to an analyst and to API keys (audit:read is for owners and admins)", async () => {
    const res = await s.gql("{ auditEvents { nodes { id } } }", {}, { authorization: `Bearer ${s.token(s.admin.subject, { sid: randomUUID() })}` });
    expect(res.body.errors?.[0]?.extensions?.code).to.equal("FORBIDDEN");
    const ownerToken = s.token(s.owner.subject);
    const { secret } = data<{ secret: string }>(
      await s.gql(`mutation { createApiKey(input: { name: "reader", scopes: ["identity:write"] }) { secret } }`, {}, { authorization: `Bearer ${ownerToken}` }),
      "createApiKey",
    );
    const byKey = await s.gql("{ auditEvents { nodes { id } } }", {}, { "x-api-key": secret });
    expect(byKey.body.errors?.[0]?.extensions?.code).to.equal("FORBIDDEN");
  });

  it("filters by time: [from, to), and to must be after from", async () => {
    const auth = { authorization: `Bearer ${s.token(s.owner.subject)}` };
    const query = "query($from: DateTime, $to: DateTime) { auditEvents(from: $from, to: $to) { nodes { occurredAt } } }";
    const future = data<{ nodes: unknown[] }>(await s.gql(query, { from: "2999-01-01T00:00:00Z" }, auth), "auditEvents");
    expect(future.nodes).to.deep.equal([]);
    const past = data<{ nodes: Array<{ occurredAt: string }> }>(await s.gql(query, { to: new Date().toISOString() }, auth), "auditEvents");
    expect(past.nodes).to.not.be.empty;
    const bad = await s.gql(query, { from: "2030-01-02T00:00:00Z", to: "2030-01-01T00:00:00Z" }, auth);
    expect(bad.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "to" });
  });

  it("loses nothing while svc-identity is stopped: records wait in the stream and are stored once it is back", async () => {
    await s.stopIdentity();
    const requestIds: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const requestId = `audit-down-${i}-${randomBytes(3).toString("hex")}`;
        requestIds.push(requestId);
        // Verified by the edge alone (a token for another audience): no svc-identity call needed to refuse it.
        const res = await s.gql("{ me { kind } }", {}, { "x-request-id": requestId, authorization: `Bearer ${s.token(s.owner.subject, { audience: "someone-else" })}` });
        expect(res.status).to.equal(401);
      }
      await s.flush();
      expect(await rowsFor(requestIds)).to.have.length(0);
    } finally {
      await s.startIdentity();
    }
    const rows = await storedFor(requestIds);
    expect(rows.map((r) => r.request_id).sort()).to.deep.equal([...requestIds].sort());
    expect(rows.every((r) => r.action === "auth.failed")).to.equal(true);
  });

  it("stores a batch message's valid records once each, drops only its invalid one, and stores a redelivered batch once", async () => {
    const requestId = `audit-batch-${randomBytes(3).toString("hex")}`;
    const record = (action: string, id: string = randomUUID()) =>
      AuditEvent.create({ id, occurTime: new Date(), tenantId: s.tenant.id, principal: "service:test", action, outcome: AuditOutcome.AUDIT_OUTCOME_OK, requestId, source: "test" });
    const batch = AuditEventBatch.encode({ events: [record("test.batch.a"), record("test.batch.invalid", "not-a-uuid"), record("test.batch.b")] }).finish();
    const nc = await connectNats({ url: TEST_NATS_URL, name: "audit-test" });
    try {
      const js = jetstream(nc);
      const { subject } = auditStream(s.natsPrefix);
      for (let i = 0; i < 2; i++) {
        await js.publish(subject, batch, { msgID: randomUUID(), headers: auditBatchHeaders() });
      }
      // A record published after both batches: once it is stored, both batches were consumed.
      await js.publish(subject, AuditEvent.encode(record("test.batch.after")).finish(), { msgID: randomUUID() });
    } finally {
      await nc.close();
    }
    await waitFor("the record after the batches", async () => (await storedFor([requestId])).some((r) => r.action === "test.batch.after"));
    const actions = (await storedFor([requestId])).map((r) => r.action).sort();
    expect(actions).to.deep.equal(["test.batch.a", "test.batch.after", "test.batch.b"]);
  });

  it("stores a record delivered twice once (insert by record id), NUL characters replaced, and never updates or deletes one", async () => {
    const event = AuditEvent.create({
      id: randomUUID(),
      occurTime: new Date(),
      tenantId: s.tenant.id,
      // Postgres text cannot hold NUL: stored replaced, not retried forever.
      principal: "service:te\u0000st",
      details: { "note\u0000": "a\u0000b" },
      action: "test.redelivered",
      outcome: AuditOutcome.AUDIT_OUTCOME_OK,
      requestId: `audit-dup-${randomBytes(3).toString("hex")}`,
      source: "test",
    });
    const nc = await connectNats({ url: TEST_NATS_URL, name: "audit-test" });
    try {
      const js = jetstream(nc);
      const { subject } = auditStream(s.natsPrefix);
      // Two message ids: JetStream keeps both; the consumer must store one row.
      await js.publish(subject, AuditEvent.encode(event).finish(), { msgID: randomUUID() });
      await js.publish(subject, AuditEvent.encode(event).finish(), { msgID: randomUUID() });
    } finally {
      await nc.close();
    }
    const rows = await storedFor([event.requestId]);
    expect(rows).to.have.length(1);
    expect(rows[0]!.principal).to.equal("service:te\uFFFDst");
    expect(rows[0]!.details).to.deep.equal({ "note\uFFFD": "a\uFFFDb" });
    await waitFor("both deliveries consumed", async () => {
      const { rows: info } = await s.pg.query<{ n: string }>("SELECT count(*) AS n FROM identity.audit_events WHERE id = $1", [event.id]);
      return info[0]!.n === "1";
    });

    for (const sql of ["UPDATE identity.audit_events SET action = 'x' WHERE id = $1", "DELETE FROM identity.audit_events WHERE id = $1"]) {
      const err = await s.pg.query(sql, [event.id]).then(() => undefined, (e: Error & { code?: string }) => e);
      expect(err?.code, sql).to.equal("42501");
    }
    const err = await s.pg.query("TRUNCATE identity.audit_events").then(() => undefined, (e: Error & { code?: string }) => e);
    expect(err?.code).to.equal("42501");
  });
});
