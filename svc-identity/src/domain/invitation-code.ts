import { hashSecret, randomBase62 } from "./api-key-secret.js";

const CODE = /^apgms_inv_[0-9A-Za-z]{32}$/;

export interface IssuedCode {
  /** Shown once, to the inviter; never stored. */
  code: string;
  /** sha256 of the code, lower-case hex: what the database keeps. */
  hash: string;
}

/** A new one-time invitation code `apgms_inv_<32 base62>` (190 random bits). */
export function issueInvitationCode(): IssuedCode {
  const code = `apgms_inv_${randomBase62(32)}`;
  return { code, hash: hashSecret(code) };
}

/** The hash to look a presented code up by, or undefined when it is not shaped like one of ours. */
export function invitationCodeHash(code: string): string | undefined {
  return CODE.test(code) ? hashSecret(code) : undefined;
}
