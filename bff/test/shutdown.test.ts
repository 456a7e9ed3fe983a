import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { testNatsPrefix } from "@apgms/common/testing/nats";
import { testServiceKeys } from "@apgms/common/testing/service-keys";
import { expect } from "chai";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { freePort, waitFor } from "./support.js";

const repoRoot = path.resolve(__dirname, "../../..");

describe("edge shutdown on SIGTERM", function () {
  this.timeout(60_000);
  let s: Stack;
  let child: ChildProcess;
  let url: string;

  before(async () => {
    s = await getStack();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [path.join(repoRoot, "bff/dist/src/main.js")], {
      env: {
        PATH: process.env.PATH,
        HTTP_PORT: String(port),
        IDENTITY_GRPC_ADDRESS: s.identityAddress,
        REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
        REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}shutdown:`,
        OIDC_ISSUER: s.issuerUrl,
        OIDC_AUDIENCE: AUDIENCE,
        LOG_LEVEL: "warn",
        NATS_PREFIX: testNatsPrefix("bff-shutdown"),
        SERVICE_TOKEN_PRIVATE_KEY: testServiceKeys().privateKeyPem,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    await waitFor("bff", async () => (await fetch(`${url}/readyz`)).ok);
  });
  after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("finishes the requests in flight, refuses new ones and exits 0", async () => {
    const token = s.token(s.a.users.viewer.subject);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let signalled = false;
    let answeredAfterSignal = 0;
    const calls = Array.from({ length: 200 }, () =>
      fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}`, connection: "close" },
        body: JSON.stringify({ query: "{ me { user { email } } }" }),
      }).then(
        async (res) => {
          if (signalled) answeredAfterSignal++;
          else {
            signalled = true;
            child.kill("SIGTERM");
          }
          return { status: res.status, body: (await res.json()) as { data?: { me?: { user?: { email: string } } } } };
        },
        // A connection the server had not accepted yet when it stopped listening: refused, never half-served.
        (err: Error) => ({ status: 0, error: String((err.cause as { code?: string } | undefined)?.code ?? err.message) }),
      ),
    );
    const results = await Promise.all(calls);
    expect(signalled).to.equal(true);
    expect(answeredAfterSignal, "requests answered after SIGTERM").to.be.greaterThan(0);
    for (const r of results) {
      if ("error" in r) {
        expect(r.error).to.match(/ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET/);
        continue;
      }
      expect(r.status).to.equal(200);
      expect(r.body.data?.me?.user?.email).to.equal(s.a.users.viewer.email);
    }
    expect(await exited).to.equal(0);
    const late = await fetch(`${url}/healthz`).then(
      () => "answered",
      () => "refused",
    );
    expect(late).to.equal("refused");
  });
});
