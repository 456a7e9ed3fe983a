// GraphiQL in development, with "sign in as" for the seeded users. Nothing
// here is reachable unless NODE_ENV=development (see buildApp).
import type { Logger } from "@apgms/common/logger";
import express, { type Router } from "express";
import type { GraphiQLOptions } from "graphql-yoga";

/** The edge's own route that asks the development issuer for a token; the page calls it, same origin. */
export const DEV_SIGN_IN_PATH = "/dev/sign-in";
const TOKEN_TTL_SECONDS = 3600;

export interface DevSignIn {
  /** Emails offered as buttons; the route mints for these and no others. */
  users: readonly string[];
  /** The development issuer (its `POST /token` signs a token for any email). */
  issuerUrl: string;
}

const DEFAULT_QUERY = "{\n  me {\n    kind\n    user { email role }\n    tenant { name slug }\n  }\n}\n";
// The call render-graphiql's page ends with; the sign-in script takes it over.
const MOUNT_CALL = "YogaGraphiQL.renderYogaGraphiQL(";

type RenderGraphiQL = (opts?: GraphiQLOptions) => string;
const loadRenderer = (): RenderGraphiQL =>
  // A large module (GraphiQL's assets inlined, so it works offline): loaded only in development.
  (require("@graphql-yoga/render-graphiql") as typeof import("@graphql-yoga/render-graphiql")).renderGraphiQL;

/** Yoga's GraphiQL options: none outside development; with the sign-in bar when users are configured. */
export function graphiqlOptions(development: boolean, signIn: DevSignIn | undefined) {
  if (!development) return { graphiql: false as const };
  const render = loadRenderer();
  const graphiql: GraphiQLOptions = { title: "APGMS GraphiQL", defaultQuery: DEFAULT_QUERY };
  if (!signIn?.users.length) return { renderGraphiQL: render, graphiql };
  const cache = new Map<string, string>();
  const renderGraphiQL = (opts?: GraphiQLOptions) => {
    const key = JSON.stringify(opts ?? {});
    let html = cache.get(key);
    if (html === undefined) cache.set(key, (html = withSignIn(render(opts), signIn.users)));
    return html;
  };
  return { renderGraphiQL, graphiql };
}

/** Adds the bar and hands GraphiQL's mount to the sign-in script. */
export function withSignIn(page: string, users: readonly string[]): string {
  if (!page.includes(MOUNT_CALL) || !page.includes('<div id="root"></div>')) {
    throw new Error("@graphql-yoga/render-graphiql's page changed: the GraphiQL sign-in cannot hook into it");
  }
  const config = JSON.stringify({ path: DEV_SIGN_IN_PATH, users }).replace(/</g, "\\u003c");
  const buttons = users.map((u) => `<button type="button" data-user="${escapeHtml(u)}">${escapeHtml(u)}</button>`).join("");
  const bar = `<div id="apgms-sign-in"><b>Sign in as</b>${buttons}<span data-status></span></div>`;
  const script = `<script>${CLIENT.replace("__CONFIG__", () => config)}</script>`;
  // The last call is the page's own (the inlined bundle comes before it).
  const at = page.lastIndexOf(MOUNT_CALL);
  const mounted = `${page.slice(0, at)}apgmsMountGraphiQL(${page.slice(at + MOUNT_CALL.length)}`;
  return mounted
    .replace("</head>", () => `<style>${BAR_CSS}</style></head>`)
    .replace('<div id="root"></div>', () => `${bar}<div id="root"></div>${script}`);
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const BAR_CSS = `
body{display:flex;flex-direction:column;height:100vh;margin:0}
#root{flex:1;min-height:0}
#apgms-sign-in{display:flex;gap:8px;align-items:center;padding:6px 12px;font:13px system-ui,sans-serif;border-bottom:1px solid #ccc;background:#f6f7f9}
#apgms-sign-in>*{white-space:nowrap;flex-shrink:0}
#apgms-sign-in button{font:inherit;padding:2px 8px;cursor:pointer;border:1px solid #999;border-radius:4px;background:#fff}
#apgms-sign-in button[aria-pressed=true]{font-weight:bold;outline:2px solid #e535ab}
#apgms-sign-in>[data-status]{flex-shrink:1;overflow:hidden;text-overflow:ellipsis;color:#555}
#apgms-sign-in>[data-status].error{color:#b00020}
#apgms-sign-in-prompt{padding:24px;font:14px system-ui,sans-serif}`;

// Runs in the browser. GraphiQL is mounted only once a user is chosen, so its
// first schema request already carries a valid token; storage is off so no
// stale header from an earlier visit overrides it (the query stays in the URL).
// Another user: remember the choice and reload.
const CLIENT = `(() => {
  const config = __CONFIG__;
  const KEY = "apgms.graphiql.signInAs";
  const bar = document.getElementById("apgms-sign-in");
  const status = bar.querySelector("[data-status]");
  let target;
  let mounted = false;
  const say = (text, error) => { status.textContent = text; status.className = error ? "error" : ""; };
  const mount = (extra) => {
    mounted = true;
    target.root.textContent = "";
    YogaGraphiQL.renderYogaGraphiQL(target.root, { ...target.opts, ...extra });
  };
  async function signIn(email) {
    sessionStorage.setItem(KEY, email);
    if (mounted) return location.reload();
    say("signing in as " + email + "\\u2026");
    try {
      const res = await fetch(config.path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
      const body = await res.json().catch(() => ({}));
      if (!res.ok || typeof body.accessToken !== "string") throw new Error(body.message || "sign-in failed (HTTP " + res.status + ")");
      for (const b of bar.querySelectorAll("button[data-user]")) b.setAttribute("aria-pressed", String(b.dataset.user === email));
      mount({ headers: JSON.stringify({ Authorization: "Bearer " + body.accessToken }, null, 2), storage: null });
      say("signed in as " + email + ": token in Headers, valid 1 h (reload for a new one)");
    } catch (err) {
      sessionStorage.removeItem(KEY);
      say(err.message, true);
    }
  }
  for (const b of bar.querySelectorAll("button[data-user]")) b.addEventListener("click", () => signIn(b.dataset.user));
  window.apgmsMountGraphiQL = (root, opts) => {
    target = { root, opts };
    const chosen = sessionStorage.getItem(KEY);
    if (chosen && config.users.includes(chosen)) return void signIn(chosen);
    root.innerHTML = '<div id="apgms-sign-in-prompt"><p>Choose a user above to sign in; GraphiQL then sends their token.</p>' +
      '<p><button type="button">Open GraphiQL without signing in</button> (paste a token in its Headers tab)</p></div>';
    root.querySelector("button").addEventListener("click", () => mount({}));
  };
})();`;

/** `POST /dev/sign-in {"email"}`: a token from the development issuer for one of the offered users. */
export function devSignInRouter(signIn: DevSignIn, logger: Logger): Router {
  const router = express.Router();
  router.post(DEV_SIGN_IN_PATH, express.json({ limit: "1kb" }), async (req, res) => {
    const body: unknown = req.body;
    const email = typeof body === "object" && body !== null && "email" in body && typeof body.email === "string" ? body.email : "";
    res.set("cache-control", "no-store");
    if (!signIn.users.includes(email)) {
      res.status(400).json({ error: "unknown_user", message: `sign-in is offered only for ${signIn.users.join(", ")}` });
      return;
    }
    try {
      const answer = await fetch(`${signIn.issuerUrl}/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, ttl_seconds: TOKEN_TTL_SECONDS }),
        signal: AbortSignal.timeout(5_000),
      });
      const minted: unknown = await answer.json().catch(() => undefined);
      const token = typeof minted === "object" && minted !== null && "access_token" in minted ? minted.access_token : undefined;
      if (!answer.ok || typeof token !== "string") throw new Error(`it answered HTTP ${answer.status}`);
      res.json({ email, accessToken: token, expiresIn: TOKEN_TTL_SECONDS });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      logger.warn({ err, issuer: signIn.issuerUrl }, "development sign-in: no token from the development issuer");
      res.status(502).json({ error: "issuer_unavailable", message: `the development issuer at ${signIn.issuerUrl} gave no token: ${reason}` });
    }
  });
  return router;
}
