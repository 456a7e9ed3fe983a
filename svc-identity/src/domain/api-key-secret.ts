import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PREFIX_CHARS = 8;
const BODY_CHARS = 32;
const SECRET = /^(apgms_[0-9A-Za-z]{8})_[0-9A-Za-z]{32}$/;

/** `n` uniformly random base62 characters (rejection sampling, no modulo bias). */
export function randomBase62(n: number): string {
  let out = "";
  while (out.length < n) {
    for (const byte of randomBytes(n * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === n) break;
    }
  }
  return out;
}

export interface IssuedSecret {
  /** The whole secret: shown once, never stored. */
  secret: string;
  /** Public part, e.g. "apgms_k7Q2xZ9a": unique, safe to show and log. */
  prefix: string;
  /** sha256 of the secret, lower-case hex: what the database keeps. */
  hash: string;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** A new secret `apgms_<8 base62>_<32 base62>`. */
export function issueSecret(): IssuedSecret {
  const prefix = `apgms_${randomBase62(PREFIX_CHARS)}`;
  const secret = `${prefix}_${randomBase62(BODY_CHARS)}`;
  return { secret, prefix, hash: hashSecret(secret) };
}

/** The public prefix of a well-formed secret, or undefined. */
export function prefixOf(secret: string): string | undefined {
  return SECRET.exec(secret)?.[1];
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A hash no secret has; compared against when a prefix is unknown, so both paths cost the same. */
export const NO_MATCH_HASH = "0".repeat(64);
