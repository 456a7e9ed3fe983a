import { InvalidArgumentError } from "@apgms/common";

/** Every scope an API key can hold. The edge decides what each one allows. */
export const API_KEY_SCOPES = ["identity:read", "identity:write", "identity:provision", "billing:read", "billing:write", "billing:redeem", "insights:read", "events:write"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

function isScope(value: string): value is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(value);
}

/** At least one known scope; duplicates collapse; order is the canonical one. */
export function scopes(field: string, values: string[]): ApiKeyScope[] {
  if (values.length === 0) throw new InvalidArgumentError(field, "at least one scope is required");
  const unknown = values.filter((v) => !isScope(v));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(field, `unknown scope ${JSON.stringify(unknown[0])}; known: ${API_KEY_SCOPES.join(", ")}`);
  }
  return API_KEY_SCOPES.filter((s) => values.includes(s));
}
