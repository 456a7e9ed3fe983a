import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { createLogger } from "@apgms/common/logger";
import { createAuthenticator } from "../src/auth/authenticator.js";
import { createJwtVerifier } from "../src/auth/jwt-verifier.js";
import type { IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";

/** The real clients, with their session and principal lookups counted (and, on demand, held back). */
function counted(identity: IdentityClients) {
  const calls = { touchSession: 0, resolveOidcSubject: 0 };
  let gate: Promise<void> = Promise.resolve();
  const clients = {
    ...identity,
    sessions: {
      ...identity.sessions,
      touchSession: (async (...args: Parameters<IdentityClients["sessions"]["touchSession"]>) => {
        calls.touchSession++;
        await gate;
        return identity.sessions.touchSession(...args);
      }) as IdentityClients["sessions"]["touchSession"],
    },
    principals: {
      ...identity.principals,
      resolveOidcSubject: (async (...args: Parameters<IdentityClients["principals"]["resolveOidcSubject"]>) => {
        calls.resolveOidcSubject++;
        await gate;
        return identity.principals.resolveOidcSubject(...args);
      }) as IdentityClients["principals"]["resolveOidcSubject"],
    },
  } as IdentityClients;
  return { clients, calls, hold: (until: Promise<void>) => (gate = until) };
}

describe("edge authentication under concurrency", () => {
  let s: Stack;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  function authenticator(identity: IdentityClients) {
    const jwt = createJwtVerifier({ issuer: s.issuerUrl, audience: AUDIENCE, jwksUri: `${s.issuerUrl}/.well-known/jwks.json`, clockToleranceSeconds: 5 });
    return createAuthenticator({ jwt, identity, redis: s.redis, logger: createLogger("auth-test", { level: "silent" }), cacheSeconds: 5 });
  }
  const info = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, ip: "127.0.0.1", requestId: randomUUID() });

  it("50 requests that miss at once make one principal lookup and one session touch, and only one of them is the sign-in", async () => {
    const { clients, calls } = counted(s.identity);
    const auth = authenticator(clients);
    const token = s.token(s.a.users.analyst.subject, { sid: `herd-${randomUUID()}` });
    const principals = await Promise.all(Array.from({ length: 50 }, () => auth.authenticate(info(token))));
    expect(calls).to.deep.equal({ touchSession: 1, resolveOidcSubject: 1 });
    expect(new Set(principals.map((p) => (p.kind === "user" ? p.sessionId : "")))).to.have.length(1);
    expect(principals.filter((p) => p.kind === "user" && p.signedIn)).to.have.length(1);
  });

  it("a revocation during a lookup: the lookup is neither joined nor cached after it", async () => {
    const { clients, calls, hold } = counted(s.identity);
    const auth = authenticator(clients);
    const token = s.token(s.a.users.analyst.subject, { sid: `revoked-${randomUUID()}` });
    let release!: () => void;
    hold(new Promise<void>((r) => (release = r)));
    const first = auth.authenticate(info(token));
    await new Promise((r) => setTimeout(r, 50));
    auth.forgetUser(s.a.users.analyst.id);
    hold(Promise.resolve());
    const second = auth.authenticate(info(token)); // after the revocation: its own lookup
    release();
    await Promise.all([first, second]);
    expect(calls.resolveOidcSubject).to.equal(2);
    await auth.authenticate(info(token)); // the second lookup's result is cached; the first one's was not
    expect(calls.resolveOidcSubject).to.equal(2);
  });
});
