import { Role } from "@apgms/proto/apgms/identity/v1/user";
import type { AuthPrincipal } from "../auth/principal.js";
import { forbidden } from "./errors.js";

/**
 * What a principal may do. Users get it from their role; API keys from their
 * scopes (`identity:read`, `identity:write`), and never the owner-level or
 * key-management actions, so a leaked key cannot mint keys or delete the tenant.
 */
export type Action =
  | "identity:read"
  | "identity:write"
  | "sessions:all"
  | "apiKeys:manage"
  | "tenant:manage"
  | "owners:manage";

const byRole: Record<Role, ReadonlySet<Action>> = {
  [Role.ROLE_OWNER]: new Set<Action>(["identity:read", "identity:write", "sessions:all", "apiKeys:manage", "tenant:manage", "owners:manage"]),
  [Role.ROLE_ADMIN]: new Set<Action>(["identity:read", "identity:write", "sessions:all", "apiKeys:manage"]),
  [Role.ROLE_ANALYST]: new Set<Action>(["identity:read"]),
  [Role.ROLE_VIEWER]: new Set<Action>(["identity:read"]),
  [Role.ROLE_UNSPECIFIED]: new Set<Action>(),
  [Role.UNRECOGNIZED]: new Set<Action>(),
};

const byScope: Record<string, readonly Action[]> = {
  "identity:read": ["identity:read"],
  "identity:write": ["identity:read", "identity:write"],
};

export function can(principal: AuthPrincipal, action: Action): boolean {
  if (principal.kind === "user") return byRole[principal.role]?.has(action) ?? false;
  return principal.scopes.some((s) => byScope[s]?.includes(action));
}

export function requireAction(principal: AuthPrincipal, action: Action): void {
  if (!can(principal, action)) throw forbidden(`not allowed: ${action}`);
}
