// Offer codes: what a code may be, and making unique ones at random from a pattern.
import { randomBytes } from "node:crypto";
import { InvalidArgumentError } from "@apgms/common";

export const CODE_MIN = 3;
export const CODE_MAX = 64;
/** Codes are stored and compared upper-case; these are their characters. */
const CODE = /^[A-Z0-9_-]+$/;

export const DEFAULT_PATTERN = "########";
/** Upper-case letters and digits without the look-alikes 0, O, 1 and I. */
export const DEFAULT_CHARSET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/** Most codes one GenerateCodes or ImportCodes call makes. */
export const MAX_CODES_PER_CALL = 100_000;
/** A pattern must offer at least this many times the codes that could share it. */
export const PATTERN_HEADROOM = 100;
const SLOT = "#";

/** How a code is looked up and stored: trimmed, upper-case. */
export function normalizeCode(value: string): string {
  return value.trim().toUpperCase();
}

/** Whether an already normalized code is well formed: 3..64 of A-Z, 0-9, '-' and '_'. */
export function isCode(code: string): boolean {
  return code.length >= CODE_MIN && code.length <= CODE_MAX && CODE.test(code);
}

export const CODE_RULE = `${CODE_MIN}..${CODE_MAX} characters of A-Z, 0-9, '-' and '_'`;

/** A code given by a caller (a shared code): normalized, then checked. */
export function code(field: string, value: string): string {
  const c = normalizeCode(value);
  if (c.length === 0) throw new InvalidArgumentError(field, "is required");
  if (!isCode(c)) throw new InvalidArgumentError(field, `must be ${CODE_RULE}`);
  return c;
}

export interface CodePattern {
  /** Upper-case; each '#' becomes a character of the charset. */
  pattern: string;
  charset: string;
  /** How many '#' the pattern has. */
  slots: number;
  /** How many distinct codes it can make (a float: it may be astronomically large). */
  space: number;
}

/** GenerateCodes' pattern and charset, defaults applied, upper-cased and checked. */
export function codePattern(patternField: string, pattern: string, charsetField: string, charset: string): CodePattern {
  const p = pattern.trim() === "" ? DEFAULT_PATTERN : pattern.trim().toUpperCase();
  const chars = charset.trim() === "" ? DEFAULT_CHARSET : charset.trim().toUpperCase();
  if (p.length < CODE_MIN || p.length > CODE_MAX) throw new InvalidArgumentError(patternField, `must be ${CODE_MIN}..${CODE_MAX} characters long`);
  if (!CODE.test(p.replaceAll(SLOT, "A"))) throw new InvalidArgumentError(patternField, "may hold only '#' and A-Z, 0-9, '-' and '_'");
  const slots = [...p].filter((c) => c === SLOT).length;
  if (slots === 0) throw new InvalidArgumentError(patternField, "needs at least one '#' (a random character)");
  if (!CODE.test(chars)) throw new InvalidArgumentError(charsetField, "may hold only A-Z, 0-9, '-' and '_'");
  if (new Set(chars).size !== chars.length) throw new InvalidArgumentError(charsetField, "must not repeat a character (letters count upper-cased)");
  if (chars.length < 2) throw new InvalidArgumentError(charsetField, "needs at least 2 characters");
  return { pattern: p, charset: chars, slots, space: Math.pow(chars.length, slots) };
}

/** Refuses a pattern too small for `wanted` more codes beside the `existing` that could collide with them. */
export function assertRoom(field: string, p: CodePattern, existing: number, wanted: number): void {
  const needed = PATTERN_HEADROOM * (existing + wanted);
  if (p.space < needed) {
    throw new InvalidArgumentError(
      field,
      `"${p.pattern}" over ${p.charset.length} characters makes ${p.space} codes; ${existing + wanted} codes need at least ${needed} (${PATTERN_HEADROOM}x): add '#' or characters`,
    );
  }
}

/** A LIKE pattern matching every code `p` can make (its literal '_' escaped). */
export function likePattern(p: CodePattern): string {
  return p.pattern.replaceAll("_", "\\_").replaceAll(SLOT, "_");
}

/**
 * `count` distinct random codes of the pattern. Characters are drawn uniformly (rejection
 * sampling of crypto-random bytes: no modulo bias for a charset whose size does not divide 256).
 */
export function randomCodes(p: CodePattern, count: number): string[] {
  const { pattern, charset } = p;
  if (count > p.space) throw new RangeError(`${count} codes asked of a pattern that makes ${p.space}`);
  const n = charset.length;
  const accept = 256 - (256 % n);
  const made = new Set<string>();
  let bytes = randomBytes(0);
  let at = 0;
  const draw = (): string => {
    for (;;) {
      if (at >= bytes.length) {
        bytes = randomBytes(Math.max(4096, (count - made.size) * p.slots * 2));
        at = 0;
      }
      const b = bytes[at++]!;
      if (b < accept) return charset[b % n]!;
    }
  };
  while (made.size < count) {
    let c = "";
    for (const ch of pattern) c += ch === SLOT ? draw() : ch;
    made.add(c);
  }
  return [...made];
}
