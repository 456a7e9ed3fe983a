import { accessSync, constants } from "node:fs";
import { expect } from "chai";
import { chromium, type Browser } from "playwright-core";
import type { App } from "../src/app.js";
import { DEV_SIGN_IN_PATH } from "../src/graphql/graphiql.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { startEdge } from "./support.js";

// Debian's package (scripts/ensure-chromium.sh installs it); playwright-core cannot download browsers here.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const inCi = Boolean(process.env.CI) && process.env.CI !== "false";

function chromiumInstalled(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

describe("GraphiQL sign-in (development only)", function () {
  this.timeout(60_000);
  let s: Stack;
  let users: string[];
  const edges: App[] = [];
  const edge = async (config: Parameters<typeof startEdge>[0]["config"]) => {
    const { app, url } = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity: s.identity, redis: s.redis, config: { IDENTITY_GRPC_ADDRESS: s.identityAddress, ...config } });
    edges.push(app);
    return url;
  };
  const signInConfig = () => ({ DEV_SIGN_IN_USERS: users, DEV_OIDC_ISSUER: s.issuerUrl });
  const signIn = (url: string, email: string) =>
    fetch(`${url}${DEV_SIGN_IN_PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
  const openGraphiql = (url: string) => fetch(`${url}/graphql`, { headers: { accept: "text/html" } });

  before(async () => {
    s = await getStack();
    users = [s.a.users.owner.email, s.a.users.viewer.email];
  });
  after(async () => {
    for (const app of edges) await app.close();
  });

  for (const NODE_ENV of ["production", "test"] as const) {
    it(`is absent on a ${NODE_ENV} edge, even with the sign-in variables set`, async () => {
      const url = await edge({ NODE_ENV, ...signInConfig() });
      const page = await openGraphiql(url);
      const html = await page.text();
      expect(page.headers.get("content-type") ?? "").to.not.include("text/html");
      expect(html).to.not.include("GraphiQL").and.not.include("apgms-sign-in");
      const route = await signIn(url, s.a.users.owner.email);
      expect(route.status).to.equal(404);
      expect(await route.text()).to.not.include("accessToken");
    });
  }

  it("mints through the development issuer for the offered users only", async () => {
    const url = await edge({ NODE_ENV: "development", ...signInConfig() });
    const refused = await signIn(url, s.b.users.owner.email);
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.not.include("accessToken");

    const res = await signIn(url, s.a.users.viewer.email);
    expect(res.status).to.equal(200);
    expect(res.headers.get("cache-control")).to.equal("no-store");
    const { accessToken } = (await res.json()) as { accessToken: string };
    const me = await s.gql("{ me { user { email role } } }", {}, { token: accessToken });
    expect(me.body.data).to.deep.equal({ me: { user: { email: s.a.users.viewer.email, role: "VIEWER" } } });
  });

  it("answers 502 naming the issuer when the development issuer gives no token", async () => {
    const url = await edge({ NODE_ENV: "development", DEV_SIGN_IN_USERS: users, DEV_OIDC_ISSUER: "http://127.0.0.1:1" });
    const res = await signIn(url, s.a.users.owner.email);
    expect(res.status).to.equal(502);
    expect(((await res.json()) as { message: string }).message).to.include("http://127.0.0.1:1");
  });

  describe("in headless Chromium", () => {
    let browser: Browser;
    before(async function () {
      if (!chromiumInstalled()) {
        if (inCi) throw new Error(`${CHROMIUM} is missing in CI: scripts/ensure-chromium.sh (make test, .ci/run) installs it`);
        console.warn(`    skipped: no Chromium at ${CHROMIUM}; run \`bash scripts/ensure-chromium.sh\` (apt) or set CHROMIUM_PATH`);
        this.skip();
      }
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    });
    after(async () => {
      await browser?.close();
    });

    it("opens GraphiQL, signs in as the owner and runs `me` without typing a token", async () => {
      const url = await edge({ NODE_ENV: "development", ...signInConfig() });
      const owner = s.a.users.owner.email;
      const page = await browser.newPage();
      const statuses: number[] = [];
      page.on("response", (r) => {
        if (new URL(r.url()).pathname === "/graphql" && r.request().method() === "POST") statuses.push(r.status());
      });

      const runMe = async (email: string) => {
        await page.locator(".graphiql-execute-button").click();
        await page.waitForFunction(`document.querySelector(".graphiql-response")?.textContent.includes(${JSON.stringify(email)})`, undefined, { timeout: 20_000 });
        return (await page.locator(".graphiql-response").textContent()) ?? "";
      };

      await page.goto(`${url}/graphql`);
      await page.click(`#apgms-sign-in button[data-user="${owner}"]`);
      const result = await runMe(owner);
      expect(result).to.include(owner).and.include("OWNER").and.not.include('"errors"');
      expect(await page.locator("#apgms-sign-in [data-status]").textContent()).to.include(`signed in as ${owner}`);
      expect(await page.locator(".graphiql-editor-tool").textContent()).to.include("Bearer");

      // Another user: the page reloads and signs that user in.
      const viewer = s.a.users.viewer.email;
      await Promise.all([page.waitForEvent("load"), page.click(`#apgms-sign-in button[data-user="${viewer}"]`)]);
      expect(await runMe(viewer)).to.include("VIEWER");

      // Every request GraphiQL sent (its schema requests first) carried a valid token.
      expect(statuses.length).to.be.greaterThan(2);
      expect(statuses.every((st) => st === 200)).to.equal(true, `statuses ${statuses.join(",")}`);
      await page.close();
    });
  });
});
