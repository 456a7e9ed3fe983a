import { randomUUID } from "node:crypto";
import { connect } from "@apgms/common";
import { testMinter } from "@apgms/common/testing/service-keys";
import { AuditOutcome, AuditServiceClient, type ListAuditEventsRequest } from "@apgms/proto/apgms/identity/v1/audit";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { SERVICE_NAME } from "../src/config.js";
import { expectError, startHarness, type Harness, type Provisioned } from "./harness.js";

const auditClient = (address: string) => connect(AuditServiceClient, address, { timeoutMs: 10_000, credentials: testMinter("test").forAudience(SERVICE_NAME) });

describe("AuditService", function () {
  let h: Harness;
  let audit: ReturnType<typeof auditClient>["client"];
  let close: () => void;
  const list = (req: Partial<ListAuditEventsRequest>, ctx: Provisioned["ctx"]) =>
    audit.listAuditEvents({ page: undefined, action: "", principal: "", fromTime: undefined, toTime: undefined, ...req }, ctx);
  let a: Provisioned;
  let b: Provisioned;
  const base = new Date("2026-01-01T00:00:00Z").getTime();

  before(async () => {
    h = await startHarness("audit");
    const made = auditClient(h.address);
    audit = made.client;
    close = () => made.raw.close();
    a = await h.provision("a");
    b = await h.provision("b");
    // Five records of A a minute apart (two by another principal), one of B, one of no tenant.
    const row = (tenantId: string | null, minute: number, action: string, principal: string) => ({
      id: randomUUID(),
      tenantId,
      occurredAt: new Date(base + minute * 60_000),
      principal,
      action,
      targetIds: [],
      outcome: "ok",
      errorCodes: [],
      requestId: `r-${minute}`,
      traceId: "",
      source: "test",
      details: { minute: String(minute) },
    });
    await h.prisma.auditEvent.createMany({
      data: [
        row(a.tenantId, 1, "createAccount", `user:${a.ownerId}`),
        row(a.tenantId, 2, "createApiKey", `user:${a.ownerId}`),
        row(a.tenantId, 3, "createAccount", "apiKey:k1"),
        row(a.tenantId, 4, "updateUser", `user:${a.ownerId}`),
        row(a.tenantId, 5, "createAccount", "apiKey:k1"),
        row(b.tenantId, 6, "createAccount", `user:${b.ownerId}`),
        row(null, 7, "auth.failed", "client:127.0.0.0"),
      ],
    });
  });
  after(async () => {
    close?.();
    await h?.stop();
  });

  it("lists only the caller's tenant, newest first, in signed pages", async () => {
    const seen: string[] = [];
    let pageToken = "";
    do {
      const res = await list({ page: { pageSize: 2, pageToken } }, a.ctx);
      seen.push(...res.events.map((e) => e.details.minute!));
      expect(res.events.every((e) => e.tenantId === a.tenantId && e.outcome === AuditOutcome.AUDIT_OUTCOME_OK)).to.equal(true);
      pageToken = res.page?.nextPageToken ?? "";
    } while (pageToken);
    expect(seen).to.deep.equal(["5", "4", "3", "2", "1"]);
    const other = await list({}, b.ctx);
    expect(other.events.map((e) => e.details.minute)).to.deep.equal(["6"]);
  });

  it("filters by action, principal and [from, to), and binds page tokens to the filters", async () => {
    const byAction = await list({ action: "createAccount", principal: "apiKey:k1", page: { pageSize: 1, pageToken: "" } }, a.ctx);
    expect(byAction.events.map((e) => e.details.minute)).to.deep.equal(["5"]);
    const next = await list({ action: "createAccount", principal: "apiKey:k1", page: { pageSize: 1, pageToken: byAction.page!.nextPageToken } }, a.ctx);
    expect(next.events.map((e) => e.details.minute)).to.deep.equal(["3"]);
    await expectError(list({ action: "createAccount", page: { pageSize: 1, pageToken: byAction.page!.nextPageToken } }, a.ctx), status.INVALID_ARGUMENT, "page.page_token");

    const window = await list({ fromTime: new Date(base + 2 * 60_000), toTime: new Date(base + 4 * 60_000) }, a.ctx);
    expect(window.events.map((e) => e.details.minute)).to.deep.equal(["3", "2"]);
    await expectError(list({ fromTime: new Date(base), toTime: new Date(base) }, a.ctx), status.INVALID_ARGUMENT, "to_time");
  });
});
