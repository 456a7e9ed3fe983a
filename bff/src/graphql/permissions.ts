import { Role } from "@apgms/proto/apgms/identity/v1/user";
import type { AuthPrincipal } from "../auth/principal.js";
import { forbidden } from "./errors.js";

/**
 * What a principal may do. Users get it from their role; API keys from their
 * scopes (`identity:read`, `identity:write`, `identity:provision`,
 * `billing:read`, `billing:write`, `billing:redeem`), and never the
 * owner-level, key-management or invitation actions, so a leaked key cannot
 * mint keys, invite people or delete the tenant. Only a provisioning key (the
 * identity provider's) may link a user to an OIDC subject directly.
 *
 * Billing: every query is `billing:read`; campaign and offer changes and
 * refunds are `billing:write`; `billing:redeem` (a partner's checkout) is
 * validateRedemption and redeem only, with their answers (the transaction and
 * its campaign and offer; what lies beyond, such as a campaign's offers or an
 * offer's codes, checks billing:read in billing/resolvers/types.ts). It reads
 * nothing else, not even a transaction by id: a transaction records no
 * principal, so "one it made" cannot be told apart, and a retried redeem with
 * its idempotency key answers the first transaction again. Refunds need
 * `billing:write`, so a leaked checkout key cannot undo redemptions.
 * `billing:write` implies `billing:read`, not redeem.
 *
 * Insights: analysts and above read analytics and raw events
 * (`insights:read`; viewers do not: events carry subject ids); owners and
 * admins also ingest (`events:write`, the GraphQL mutation and POST
 * /v1/events) and choose the rolled-up dimensions (`insights:manage`). Keys
 * get `insights:read` or `events:write` (a partner's ingestion key reads
 * nothing), never `insights:manage`.
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
  | "audit:read"
  | "billing:read"
  | "billing:write"
  | "billing:redeem"
  | "insights:read"
  | "events:write"
  | "insights:manage";

const BILLING_ALL: readonly Action[] = ["billing:read", "billing:write", "billing:redeem"];
const INSIGHTS_ALL: readonly Action[] = ["insights:read", "events:write", "insights:manage"];

const byRole: Record<Role, ReadonlySet<Action>> = {
  [Role.ROLE_OWNER]: new Set<Action>(["identity:read", "identity:write", "sessions:all", "apiKeys:manage", "tenant:manage", "owners:manage", "users:invite", "audit:read", ...BILLING_ALL, ...INSIGHTS_ALL]),
  [Role.ROLE_ADMIN]: new Set<Action>(["identity:read", "identity:write", "sessions:all", "apiKeys:manage", "users:invite", "audit:read", ...BILLING_ALL, ...INSIGHTS_ALL]),
  [Role.ROLE_ANALYST]: new Set<Action>(["identity:read", "billing:read", "insights:read"]),
  [Role.ROLE_VIEWER]: new Set<Action>(["identity:read", "billing:read"]),
  [Role.ROLE_UNSPECIFIED]: new Set<Action>(),
  [Role.UNRECOGNIZED]: new Set<Action>(),
};

const byScope: Record<string, readonly Action[]> = {
  "identity:read": ["identity:read"],
  "identity:write": ["identity:read", "identity:write"],
  "identity:provision": ["identity:read", "users:provision"],
  "billing:read": ["billing:read"],
  "billing:write": ["billing:read", "billing:write"],
  "billing:redeem": ["billing:redeem"],
  "insights:read": ["insights:read"],
  "events:write": ["events:write"],
};

export function can(principal: AuthPrincipal, action: Action): boolean {
  if (principal.kind === "user") return byRole[principal.role]?.has(action) ?? false;
  return principal.scopes.some((s) => byScope[s]?.includes(action));
}

export function requireAction(principal: AuthPrincipal, action: Action): void {
  if (!can(principal, action)) throw forbidden(`not allowed: ${action}`);
}
