import { randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import type { SigningKey } from "./keys.js";

export interface MintOptions {
  issuer: string;
  audience: string;
  subject: string;
  email?: string;
  /** Lifetime in seconds (default one hour). */
  ttlSeconds?: number;
  /** OIDC session id; a new one per token unless given. */
  sid?: string;
  /** Extra or overriding claims (tests use this for bad tokens). */
  claims?: Record<string, unknown>;
}

/** Signs an RS256 access token the way an OIDC provider would. */
export function mintToken(key: SigningKey, options: MintOptions): string {
  const { issuer, audience, subject, email, ttlSeconds = 3600, sid = randomUUID(), claims = {} } = options;
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer,
    aud: audience,
    sub: subject,
    iat: now,
    exp: now + ttlSeconds,
    jti: randomUUID(),
    sid,
    // The development issuer vouches for every email it signs (a real provider verifies it first).
    ...(email ? { email, email_verified: true } : {}),
    ...claims,
  };
  return jwt.sign(payload, key.privateKeyPem, { algorithm: "RS256", keyid: key.kid });
}
