import type { TokenClaims } from "./jwt-verifier.js";

/**
 * A refused credential: answered with 401, a `WWW-Authenticate` challenge
 * (RFC 6750) and a GraphQL-shaped body with code UNAUTHENTICATED.
 */
export class AuthError extends Error {
  constructor(
    message: string,
    /** RFC 6750 error attribute; absent when no credentials were sent. */
    readonly oauthError?: "invalid_request" | "invalid_token",
  ) {
    super(message);
    this.name = "AuthError";
  }

  get challenge(): string {
    const parts = ['Bearer realm="apgms"'];
    if (this.oauthError) {
      // RFC 6750 allows %x20-21 / %x23-5B / %x5D-7E here: no quotes, backslashes or control characters.
      parts.push(`error="${this.oauthError}"`, `error_description="${this.message.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "")}"`);
    }
    return `${parts.join(", ")}, ApiKey realm="apgms"`;
  }
}

/** A valid token whose issuer + subject is linked to no live user: it may only sign up. */
export class UnlinkedIdentityError extends AuthError {
  constructor(readonly claims: TokenClaims) {
    super("no active user is linked to this identity", "invalid_token");
    this.name = "UnlinkedIdentityError";
  }
}
