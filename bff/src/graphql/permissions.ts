import { Role } from "@apgms/proto/apgms/identity/v1/user";
import type { AuthPrincipal } from "../auth/principal.js";
import { forbidden } from "./errors.js";

/**
 * What a principal may do. Users get it from their role; API keys from their
 * scopes (`identity:read`, `identity:write`, `identity:provision`), and never
 * the owner-level, key-management or invitation actions, so a leaked key
 * cannot mint keys, invite people or delete the tenant. Only a provisioning
 * key (the identity provider's) may link a user to an OIDC subject directly.
 */
export type Action =
  | "identity:read"
  | "identity:write"
  | "sessions:all"
  | "apiKeys:manage"
  | "tenant:manage"
  | "owners:manage"
  | "users:invite"
  | "users:provision"
  | "audit:read";

const byRole: Record<Role, ReadonlySet<Action>> = {
  [Role.ROLE_OWNER]: new Set<Action>(["identity:read", "identity:write", "sessions:all", "apiKeys:manage", "tenant:manage", "owners:manage", "users:invite", "audit:read"]),
  [Role.ROLE_ADMIN]: new Set<Action>(["identity:read", "identity:write", "sessions:all", "apiKeys:manage", "users:invite", "audit:read"]),
  [Role.ROLE_ANALYST]: new Set<Action>(["identity:read"]),
  [Role.ROLE_VIEWER]: new Set<Action>(["identity:read"]),
  [Role.ROLE_UNSPECIFIED]: new Set<Action>(),
  [Role.UNRECOGNIZED]: new Set<Action>(),
};

const byScope: Record<string, readonly Action[]> = {
  "identity:read": ["identity:read"],
  "identity:write": ["identity:read", "identity:write"],
  "identity:provision": ["identity:read", "users:provision"],
};

export function can(principal: AuthPrincipal, action: Action): boolean {
  if (principal.kind === "user") return byRole[principal.role]?.has(action) ?? false;
  return principal.scopes.some((s) => byScope[s]?.includes(action));
}

export function requireAction(principal: AuthPrincipal, action: Action): void {
  if (!can(principal, action)) throw forbidden(`not allowed: ${action}`);
}
