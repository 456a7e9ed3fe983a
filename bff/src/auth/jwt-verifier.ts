import { expressjwt, type Request as JwtRequest } from "express-jwt";
import type { Request, Response } from "express";
import jwksRsa from "jwks-rsa";
import { AuthError } from "./errors.js";
import { describeTokenError, peek, TOKEN_MESSAGES } from "./token-errors.js";
import { TtlCache } from "./ttl-cache.js";

export interface TokenClaims {
  iss: string;
  sub: string;
  exp: number;
  sid?: string;
  jti?: string;
  email?: string;
  /** Whether the provider verified `email`; only then may it match an invitation. */
  email_verified?: boolean;
  name?: string;
}

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  jwksUri: string;
  clockToleranceSeconds: number;
  /** Verified tokens kept in memory (until their own expiry). */
  cacheSize?: number;
}

export interface JwtVerifier {
  verify(token: string): Promise<TokenClaims>;
}

type TokenRequest = { method: string; headers: Record<string, string>; token: string };

/**
 * Verifies OIDC access tokens with express-jwt + jwks-rsa: RS256 only, issuer
 * and audience checked, JWKS cached and its fetches rate limited. A verified
 * token is remembered until it expires, so RS256 runs once per token, not per
 * request. Refusals say what is wrong in the caller's terms (token-errors.ts).
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const { issuer, audience, jwksUri, clockToleranceSeconds, cacheSize = 10_000 } = options;
  const middleware = expressjwt({
    secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, cacheMaxAge: 10 * 60_000, rateLimit: true, jwksRequestsPerMinute: 10 }),
    algorithms: ["RS256"],
    issuer,
    audience,
    clockTolerance: clockToleranceSeconds,
    getToken: (req) => (req as unknown as TokenRequest).token,
  });
  const cache = new TtlCache<TokenClaims>(cacheSize);

  const runMiddleware = (token: string) =>
    new Promise<TokenClaims>((resolve, reject) => {
      const req: TokenRequest = { method: "POST", headers: {}, token };
      middleware(req as unknown as Request, {} as Response, (err?: unknown) => {
        if (err) return reject(err);
        const { auth } = req as unknown as Partial<JwtRequest<TokenClaims>>;
        if (!auth) return reject(new Error("no token"));
        resolve(auth);
      });
    });

  return {
    async verify(token) {
      const hit = cache.get(token);
      if (hit) return hit;
      const header = peek(token);
      if (!header) throw new AuthError(TOKEN_MESSAGES.malformed, "invalid_token");
      if (header.alg !== "RS256") throw new AuthError(TOKEN_MESSAGES.algorithm(header.alg), "invalid_token");
      let claims: TokenClaims;
      try {
        claims = await runMiddleware(token);
      } catch (err) {
        throw describeTokenError(err, token, { issuer, audience });
      }
      if (typeof claims.sub !== "string" || !claims.sub || typeof claims.exp !== "number") {
        throw new AuthError(TOKEN_MESSAGES.claims, "invalid_token");
      }
      cache.set(token, claims, claims.exp * 1000);
      return claims;
    },
  };
}

/** Reads jwks_uri from the issuer's discovery document. */
export async function discoverJwksUri(issuer: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  const res = await fetchImpl(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`OIDC discovery at ${issuer} answered ${res.status}`);
  const doc = (await res.json()) as { jwks_uri?: unknown };
  if (typeof doc.jwks_uri !== "string") throw new Error(`OIDC discovery at ${issuer} has no jwks_uri`);
  return doc.jwks_uri;
}
