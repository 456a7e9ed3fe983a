import jwt from "jsonwebtoken";
import { AuthError } from "./errors.js";

/**
 * Why a bearer token was refused, in the caller's terms rather than the JWT
 * libraries' ("secret or public key must be provided" meant: no key of the
 * issuer has this token's `kid`). Returns an AuthError (401) for anything the
 * caller can fix, and the error itself when the issuer's key set could not be
 * fetched: a dependency failure (503), not the caller's fault.
 */

export const TOKEN_MESSAGES = {
  malformed: "token is not a well-formed JWT (expected header.payload.signature, base64url)",
  algorithm: (alg: unknown) => `token must be signed with RS256, not ${printable(alg)}`,
  signature: "token signature is not valid or its signing key is unknown",
  expired: (at: Date) => `token expired at ${at.toISOString()}`,
  notYetValid: (from: Date) => `token is not valid before ${from.toISOString()}`,
  issuer: (iss: unknown, trusted: string) => `token issuer ${printable(iss)} is not trusted (expected ${trusted})`,
  audience: (audience: string) => `token audience must include ${audience}`,
  claims: "token lacks sub or exp",
} as const;

/** A claim echoed back safely: quoted, printable ASCII, at most 100 characters. */
function printable(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return JSON.stringify(text.replace(/[^\x20-\x7e]/g, "?").slice(0, 100));
}

/** What the token says about itself, decoded without trusting it (for the messages only). */
export function peek(token: string): { alg?: unknown; iss?: unknown } | undefined {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== "object") return undefined;
  return { alg: decoded.header.alg, iss: decoded.payload.iss };
}

export interface Expected {
  issuer: string;
  audience: string;
}

export function describeTokenError(err: unknown, token: string, expected: Expected): Error {
  const name = (err as { name?: unknown } | null)?.name;
  // Not found in the issuer's key set, and asked for too often: an unknown key all the same.
  if (name === "JwksRateLimitError") return new AuthError(TOKEN_MESSAGES.signature, "invalid_token");
  if (name === "JwksError") return err as Error;
  const inner: unknown = (err as { inner?: unknown } | null)?.inner ?? err;
  if (inner instanceof jwt.TokenExpiredError) return new AuthError(TOKEN_MESSAGES.expired(inner.expiredAt), "invalid_token");
  if (inner instanceof jwt.NotBeforeError) return new AuthError(TOKEN_MESSAGES.notYetValid(inner.date), "invalid_token");
  const message = inner instanceof Error ? inner.message : "";
  if (message.startsWith("jwt issuer invalid")) return new AuthError(TOKEN_MESSAGES.issuer(peek(token)?.iss, expected.issuer), "invalid_token");
  if (message.startsWith("jwt audience invalid")) return new AuthError(TOKEN_MESSAGES.audience(expected.audience), "invalid_token");
  if (message === "invalid algorithm") return new AuthError(TOKEN_MESSAGES.algorithm(peek(token)?.alg), "invalid_token");
  if (message === "jwt malformed" || message === "invalid token" || message.startsWith("jwt must be")) {
    return new AuthError(TOKEN_MESSAGES.malformed, "invalid_token");
  }
  // "invalid signature", "secret or public key must be provided" (no key with this kid), and the rest.
  return new AuthError(TOKEN_MESSAGES.signature, "invalid_token");
}
