import { SignJWT } from "jose";
import { LRUCache } from "lru-cache";
import { principalToString, type Principal, type RequestContext } from "./context.js";
import type { ServiceSigningKey } from "./service-token-keys.js";

/** The claim holding the tenant id; absent on platform calls. */
export const TENANT_CLAIM = "tid";

/** What a verified service token says about a call. */
export interface ServiceCaller {
  /** The minting process (`iss`), e.g. "bff". */
  issuer: string;
  tenantId?: string;
  principal: Principal;
}

export interface ServiceTokenMinterOptions {
  key: ServiceSigningKey;
  /** This process's name, the token's `iss`, and the principal of calls made outside any request. */
  issuer: string;
  ttlSeconds?: number;
  /** A cached token is replaced once it has less than this left, so it never expires in flight. */
  renewBeforeSeconds?: number;
  /** Distinct (audience, tenant, principal) tokens kept. */
  maxCached?: number;
}

/** What a gRPC client needs: a token for the call's context. */
export interface CallCredentialSource {
  tokenFor(ctx: RequestContext | undefined): Promise<string>;
}

export interface ServiceTokenMinter {
  /** The bearer token for (audience, tenant, principal); cached until shortly before it expires. */
  mint(audience: string, tenantId: string | undefined, principal: Principal): Promise<string>;
  /** Tokens for one target service, from the call's context (the minting service itself when there is none). */
  forAudience(audience: string): CallCredentialSource;
}

/**
 * Mints short-lived EdDSA/ES256 JWTs that carry a call's tenant and principal
 * to a service. Signing costs ~0.1 ms, so tokens are cached per (audience,
 * tenant, principal) and the hot path is a map lookup.
 */
export function createServiceTokenMinter(options: ServiceTokenMinterOptions): ServiceTokenMinter {
  const { key, issuer, ttlSeconds = 60, renewBeforeSeconds = 15, maxCached = 10_000 } = options;
  const self: Principal = { kind: "service", id: issuer };
  const cache = new LRUCache<string, { token: Promise<string>; renewAt: number }>({ max: maxCached });

  async function sign(audience: string, tenantId: string | undefined, principal: Principal): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(tenantId ? { [TENANT_CLAIM]: tenantId } : {})
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
      .setIssuer(issuer)
      .setSubject(principalToString(principal))
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(key.privateKey);
  }

  function mint(audience: string, tenantId: string | undefined, principal: Principal): Promise<string> {
    const cacheKey = `${audience}\n${tenantId ?? ""}\n${principalToString(principal)}`;
    const hit = cache.get(cacheKey);
    if (hit && hit.renewAt > Date.now()) return hit.token;
    // The promise is cached, so concurrent first calls share one signature.
    const token = sign(audience, tenantId, principal);
    cache.set(cacheKey, { token, renewAt: Date.now() + (ttlSeconds - renewBeforeSeconds) * 1000 });
    token.catch(() => cache.delete(cacheKey));
    return token;
  }

  return {
    mint,
    forAudience: (audience) => ({
      tokenFor: (ctx) => mint(audience, ctx?.tenantId, ctx?.principal ?? self),
    }),
  };
}
