import { AsyncLocalStorage } from "node:async_hooks";

/** Who is making a request. `id` is the user, API key or service id. */
export interface Principal {
  kind: "user" | "apiKey" | "service";
  id: string;
}

/** Per-request facts that travel with a call: edge → gRPC → logs. */
export interface RequestContext {
  requestId: string;
  tenantId?: string;
  principal?: Principal;
  /** Absolute deadline (epoch ms) of the whole request, if any. */
  deadline?: number;
  /** gRPC calls (attempts) made under this context so far: the edge reports it when asked (UPSTREAM_CALLS_HEADER). */
  upstreamCalls?: number;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function principalToString(p: Principal): string {
  return `${p.kind}:${p.id}`;
}

export function parsePrincipal(value: string | undefined): Principal | undefined {
  if (!value) return undefined;
  const i = value.indexOf(":");
  if (i <= 0) return undefined;
  const kind = value.slice(0, i);
  if (kind !== "user" && kind !== "apiKey" && kind !== "service") return undefined;
  return { kind, id: value.slice(i + 1) };
}

/**
 * Metadata keys between processes. The tenant and principal travel only in
 * the service token (`authorization`, see grpc/authenticate.ts), never as
 * metadata of their own.
 */
export const MetadataKeys = {
  /** `Bearer <service token>`. */
  authorization: "authorization",
  requestId: "x-request-id",
  field: "x-apgms-field",
  /** A refusal's machine-readable reason (e.g. billing's OFFER_LIMIT_REACHED), beside its status. */
  reason: "x-apgms-reason",
} as const;
