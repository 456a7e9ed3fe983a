import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { status, type ServiceError } from "@grpc/grpc-js";
import { isServiceCredentialRefusal } from "@apgms/common/grpc/authenticate";
import type { Redis } from "ioredis";
import { VerifyApiKeyResponse } from "@apgms/proto/apgms/identity/v1/principal";
import type { Logger } from "@apgms/common/logger";
import type { IdentityClients } from "../identity-clients.js";
import { AuthError, UnlinkedIdentityError } from "./errors.js";
import type { JwtVerifier, TokenClaims } from "./jwt-verifier.js";
import type { AuthPrincipal } from "./principal.js";
import type { Revocation, RevocationChannel } from "./revocations.js";
import { TtlCache } from "./ttl-cache.js";

export interface AuthenticatorOptions {
  jwt: JwtVerifier;
  identity: IdentityClients;
  redis: Redis;
  logger: Logger;
  /** How long a resolved principal, a session's state or an API key is trusted before it is checked again. */
  cacheSeconds: number;
  /** Tells the other edge instances what this one forgot, and hears theirs; without it a change elsewhere waits out cacheSeconds. */
  revocations?: RevocationChannel;
}

export interface RequestInfo {
  headers: IncomingHttpHeaders;
  ip: string;
  requestId: string;
}

type UserPrincipal = Extract<AuthPrincipal, { kind: "user" }>;
type Resolved = Pick<UserPrincipal, "tenant" | "user" | "role">;
interface SessionState {
  id: string;
  revoked: boolean;
  userId: string;
  tenantId: string;
}

const code = (err: unknown) => (err as Partial<ServiceError>).code;
const apiKeyCacheKey = (hash: string) => `auth:apikey:${hash}`;
const apiKeyIndexKey = (keyId: string) => `auth:apikey-hashes:${keyId}`;
const tenantKeysIndexKey = (tenantId: string) => `auth:tenant-apikey-hashes:${tenantId}`;
/** Request header naming the tenant (id or slug) to act in, for an identity that belongs to several. */
export const TENANT_HEADER = "x-apgms-tenant";
const TENANT_SELECTOR = /^[\w-]{1,63}$/;

/**
 * Turns the request's credentials into a principal: a bearer JWT (verified
 * once per token), whose issuer+subject resolves to a live user and whose
 * session is recorded and not revoked; or an API key verified by svc-identity
 * and cached briefly in Redis. Lookups are cached for `cacheSeconds`; what one
 * edge forgets it broadcasts to every other (`revocations`), so a revocation
 * bites everywhere at once, and `cacheSeconds` only bounds a lost broadcast.
 */
export function createAuthenticator(options: AuthenticatorOptions) {
  const { jwt, identity, redis, logger, cacheSeconds, revocations } = options;
  const ttlMs = cacheSeconds * 1000;
  const principals = new TtlCache<Resolved>(50_000);
  const sessions = new TtlCache<SessionState>(100_000);
  // Lookups in flight, joined by every request that misses the same key meanwhile: when an entry
  // expires under load, one call refreshes it instead of one per request in flight (which, for a
  // session, queued that many upserts on its one row). A revocation bumps `generation` and drops
  // the flights: a lookup that began before it is neither joined nor cached after it.
  const principalFlights = new Map<string, Promise<Resolved>>();
  const sessionFlights = new Map<string, Promise<{ state: SessionState; created: boolean }>>();
  let generation = 0;
  function join<V>(flights: Map<string, Promise<V>>, key: string, lookup: () => Promise<V>): { flight: Promise<V>; joined: boolean } {
    const running = flights.get(key);
    if (running) return { flight: running, joined: true };
    const flight = lookup();
    flights.set(key, flight);
    const done = () => {
      if (flights.get(key) === flight) flights.delete(key);
    };
    flight.then(done, done);
    return { flight, joined: false };
  }
  const ctx = (requestId: string, tenantId?: string) => ({ context: { requestId, tenantId, principal: { kind: "service" as const, id: "bff" } } });

  async function resolveUser(claims: TokenClaims, tenant: string, requestId: string): Promise<Resolved> {
    const key = `${claims.iss}\n${claims.sub}\n${tenant}`;
    const hit = principals.get(key);
    if (hit) return hit;
    return join(principalFlights, key, async () => {
      const since = generation;
      try {
        const res = await identity.principals.resolveOidcSubject({ issuer: claims.iss, subject: claims.sub, tenant }, ctx(requestId));
        const resolved: Resolved = { tenant: res.tenant!, user: res.user!, role: res.user!.role };
        if (since === generation) principals.set(key, resolved, Date.now() + ttlMs);
        return resolved;
      } catch (err) {
        if (code(err) === status.NOT_FOUND) throw new UnlinkedIdentityError(claims);
        throw err;
      }
    }).flight;
  }

  async function checkSession(claims: TokenClaims, resolved: Resolved, info: RequestInfo): Promise<SessionState & { key: string; signedIn: boolean }> {
    const sessionKey = claims.sid ?? claims.jti ?? `sub:${claims.sub}`;
    const cacheKey = `${resolved.user.id}\n${sessionKey}`;
    let state = sessions.get(cacheKey);
    let signedIn = false;
    if (!state) {
      const { flight, joined } = join(sessionFlights, cacheKey, async () => {
        const since = generation;
        const ua = info.headers["user-agent"];
        const res = await identity.sessions.touchSession(
          {
            userId: resolved.user.id,
            sessionKey,
            userAgent: (Array.isArray(ua) ? ua[0] : ua)?.slice(0, 512) ?? "",
            ip: info.ip,
            expireTime: new Date(claims.exp * 1000),
          },
          ctx(info.requestId, resolved.tenant.id),
        );
        const touched = { id: res.session!.id, revoked: res.session!.revokeTime !== undefined, userId: resolved.user.id, tenantId: resolved.tenant.id };
        if (since === generation) sessions.set(cacheKey, touched, Date.now() + ttlMs);
        // Created by this very call (created = last seen, one statement): the session's first request.
        return { state: touched, created: res.session!.createTime?.getTime() === res.session!.lastSeenTime?.getTime() };
      });
      const touched = await flight;
      state = touched.state;
      // Only the request that made the call is the sign-in; those that joined it are not.
      signedIn = !joined && !state.revoked && touched.created;
    }
    if (state.revoked) throw new AuthError("session revoked", "invalid_token");
    return { ...state, key: sessionKey, signedIn };
  }

  function tenantSelector(info: RequestInfo): string {
    const value = info.headers[TENANT_HEADER];
    if (value === undefined || value === "") return "";
    if (typeof value !== "string" || !TENANT_SELECTOR.test(value)) {
      throw new AuthError(`malformed ${TENANT_HEADER} header: expected a tenant id or slug`, "invalid_request");
    }
    return value.toLowerCase();
  }

  async function fromBearer(token: string, info: RequestInfo): Promise<AuthPrincipal> {
    const tenant = tenantSelector(info);
    const claims = await jwt.verify(token);
    const resolved = await resolveUser(claims, tenant, info.requestId);
    const session = await checkSession(claims, resolved, info);
    return { kind: "user", ...resolved, sessionKey: session.key, sessionId: session.id, claims, signedIn: session.signedIn };
  }

  async function fromApiKey(secret: string, info: RequestInfo): Promise<AuthPrincipal> {
    const hash = createHash("sha256").update(secret).digest("hex");
    const cached = await redis.get(apiKeyCacheKey(hash)).catch((err: unknown) => {
      logger.warn({ err }, "API key cache read failed");
      return null;
    });
    let res: VerifyApiKeyResponse;
    if (cached) {
      res = VerifyApiKeyResponse.fromJSON(JSON.parse(cached));
    } else {
      try {
        res = await identity.principals.verifyApiKey({ secret }, ctx(info.requestId));
      } catch (err) {
        // A refused service token is the edge's own fault (keys, clock): a 503, not the caller's bad key.
        const refused = code(err) === status.UNAUTHENTICATED || code(err) === status.INVALID_ARGUMENT;
        if (refused && !isServiceCredentialRefusal(err)) throw new AuthError("invalid API key", "invalid_token");
        throw err;
      }
      if (ttlMs > 0) {
        await redis
          .multi()
          .set(apiKeyCacheKey(hash), JSON.stringify(VerifyApiKeyResponse.toJSON(res)), "PX", ttlMs)
          .sadd(apiKeyIndexKey(res.apiKey!.id), hash)
          .pexpire(apiKeyIndexKey(res.apiKey!.id), ttlMs * 2)
          .sadd(tenantKeysIndexKey(res.tenant!.id), hash)
          .pexpire(tenantKeysIndexKey(res.tenant!.id), ttlMs * 2)
          .exec()
          .catch((err: unknown) => logger.warn({ err }, "API key cache write failed"));
      }
    }
    return { kind: "apiKey", tenant: res.tenant!, apiKey: res.apiKey!, scopes: res.apiKey!.scopes };
  }

  /** Drops this process's cached state that a revocation names. */
  function forgetLocally(r: Revocation): void {
    generation++;
    principalFlights.clear();
    sessionFlights.clear();
    switch (r.kind) {
      case "user":
        principals.deleteWhere((p) => p.user.id === r.userId);
        sessions.deleteWhere((s) => s.userId === r.userId);
        return;
      case "tenant":
        principals.deleteWhere((p) => p.tenant.id === r.tenantId);
        sessions.deleteWhere((s) => s.tenantId === r.tenantId);
        return;
      case "identity":
        principals.deleteWhere((p) => p.user.oidcIssuer === r.iss && p.user.oidcSubject === r.sub);
        return;
      case "session":
        sessions.delete(`${r.userId}\n${r.sessionKey}`);
        return;
    }
  }
  revocations?.listen((r) => {
    logger.debug({ revocation: r.kind }, "revocation from another edge");
    forgetLocally(r);
  });
  const forget = (r: Revocation) => {
    forgetLocally(r);
    revocations?.publish(r);
  };

  return {
    /** Resolves the principal or throws AuthError (401). Other errors mean a dependency failed. */
    authenticate(info: RequestInfo): Promise<AuthPrincipal> {
      const header = info.headers.authorization;
      const xApiKey = info.headers["x-api-key"];
      if (header) {
        const space = header.indexOf(" ");
        const scheme = space > 0 ? header.slice(0, space).toLowerCase() : "";
        const value = space > 0 ? header.slice(space + 1).trim() : "";
        if (!value || value.includes(" ")) return Promise.reject(new AuthError("malformed Authorization header: expected \"Bearer <token>\" or \"ApiKey <key>\"", "invalid_request"));
        if (scheme === "bearer") return fromBearer(value, info);
        if (scheme === "apikey") return fromApiKey(value, info);
        return Promise.reject(new AuthError("unsupported authorization scheme", "invalid_request"));
      }
      if (typeof xApiKey === "string" && xApiKey) return fromApiKey(xApiKey, info);
      return Promise.reject(new AuthError("authentication required"));
    },

    /** Forget what every edge knows about a user (after its role changed or it was deleted). */
    forgetUser(userId: string): void {
      forget({ kind: "user", userId });
    },
    /**
     * Drops every cached credential of a tenant (users and sessions on every
     * edge, API key verifications in Redis), e.g. once it is deleted: its next
     * request is checked against svc-identity again.
     */
    async forgetTenant(tenantId: string): Promise<void> {
      forget({ kind: "tenant", tenantId });
      try {
        const hashes = await redis.smembers(tenantKeysIndexKey(tenantId));
        await redis.del(...hashes.map(apiKeyCacheKey), tenantKeysIndexKey(tenantId));
      } catch (err) {
        logger.warn({ err, tenantId }, "could not drop the tenant's cached API key verifications");
      }
    },
    /** After the identity joined, restored or created a tenant: its default tenant may have changed. */
    forgetIdentity(claims: Pick<TokenClaims, "iss" | "sub">): void {
      forget({ kind: "identity", iss: claims.iss, sub: claims.sub });
    },
    /** After a session was revoked: every edge checks it again on its next use. */
    forgetSession(userId: string, sessionKey: string): void {
      forget({ kind: "session", userId, sessionKey });
    },
    /** Drops every cached verification of an API key's secrets, on every edge (the cache is in Redis). */
    async forgetApiKey(keyId: string): Promise<void> {
      try {
        const hashes = await redis.smembers(apiKeyIndexKey(keyId));
        if (hashes.length) await redis.del(...hashes.map(apiKeyCacheKey), apiKeyIndexKey(keyId));
      } catch (err) {
        // The change itself is done; an unreachable cache only delays it by AUTH_CACHE_SECONDS.
        logger.warn({ err, keyId }, "could not drop cached API key verifications");
      }
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
