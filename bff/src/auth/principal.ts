import type { ApiKey } from "@apgms/proto/apgms/identity/v1/api_key";
import type { Tenant } from "@apgms/proto/apgms/identity/v1/tenant";
import type { Role, User } from "@apgms/proto/apgms/identity/v1/user";
import type { TokenClaims } from "./jwt-verifier.js";

/** Who the edge has authenticated for this request. */
export type AuthPrincipal =
  | { kind: "user"; tenant: Tenant; user: User; role: Role; sessionKey: string; sessionId: string; claims: TokenClaims; signedIn?: boolean }
  | { kind: "apiKey"; tenant: Tenant; apiKey: ApiKey; scopes: string[] };
