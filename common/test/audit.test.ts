import { expect } from "chai";
import { maskEmail, maskIp, printable, redactDetails } from "../src/audit/redact.js";
import { auditStream, natsToken } from "../src/audit/stream.js";
import { createLogExport } from "../src/telemetry-logs.js";

describe("audit redaction", () => {
  it("masks every email in a text, keeping the first character and the domain", () => {
    expect(maskEmail("owner@demo.apgms.dev")).to.equal("o***@demo.apgms.dev");
    expect(maskEmail("identity:https://idp.example/#jane.doe+x@acme.co.uk")).to.equal("identity:https://idp.example/#j***@acme.co.uk");
    expect(maskEmail("a@b.io and c@d.io")).to.equal("a***@b.io and c***@d.io");
    expect(maskEmail("user:3f1c")).to.equal("user:3f1c");
  });

  it("keeps a client address as its network only", () => {
    expect(maskIp("203.0.113.77")).to.equal("203.0.113.0");
    expect(maskIp("::ffff:10.1.2.3")).to.equal("10.1.2.0");
    expect(maskIp("2001:db8:85a3:8d3:1319:8a2e:370:7348")).to.equal("2001:db8:85a3::");
    expect(maskIp("not an address")).to.equal("");
  });

  it("never keeps a secret-like or name-like detail, masks emails and strips control characters", () => {
    const out = redactDetails({
      secret: "s3cr3t",
      code: "invite-code",
      accessToken: "eyJ…",
      password: "p",
      displayName: "Jane Doe",
      email: "jane@acme.io",
      role: "ADMIN",
      note: "a\u0000b",
      skipped: undefined,
    });
    expect(out).to.deep.equal({
      secret: "[redacted]",
      code: "[redacted]",
      accessToken: "[redacted]",
      password: "[redacted]",
      displayName: "[redacted]",
      email: "j***@acme.io",
      role: "ADMIN",
      note: "a\uFFFDb",
    });
    expect(printable("x\u001fy")).to.equal("x\uFFFDy");
  });

  it("cuts details at 32 entries of 256 characters", () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, "v".repeat(300)]));
    const out = redactDetails(many);
    expect(Object.keys(out)).to.have.length(32);
    expect(out.k0).to.have.length(256);
  });
});

describe("audit stream names", () => {
  it("names the stream and subject from the prefix, made safe for both", () => {
    expect(auditStream("apgms")).to.deep.include({ subject: "apgms.audit.events", durable: "svc-identity-audit" });
    expect(auditStream("apgms").stream).to.deep.include({ name: "apgms_AUDIT", subjects: ["apgms.audit.events"], retention: "workqueue" });
    expect(natsToken("t-2026.x*y>z w")).to.equal("t-2026_x_y_z_w");
    expect(() => natsToken("")).to.throw(/NATS_PREFIX/);
  });
});

describe("OTLP log export", () => {
  it("is off without an endpoint, and with OTEL_LOGS_EXPORTER=none", async () => {
    const env: NodeJS.ProcessEnv = { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" };
    const off = createLogExport("test", { env });
    expect(off.provider).to.equal(undefined);
    expect(env).to.deep.equal({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    const none = createLogExport("test", { env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", OTEL_LOGS_EXPORTER: "none" } });
    expect(none.provider).to.equal(undefined);
  });

  it("refuses an unknown protocol at start rather than dropping records", () => {
    expect(() => createLogExport("test", { env: { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://127.0.0.1:1/v1/logs", OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "carrier-pigeon" } })).to.throw(
      /OTEL_EXPORTER_OTLP_LOGS_PROTOCOL="carrier-pigeon"/,
    );
  });
});
