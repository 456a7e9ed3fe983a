import { randomUUID } from "node:crypto";
import type { Metadata, sendUnaryData, ServerUnaryCall, ServerWritableStream, ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import { MetadataKeys, type RequestContext } from "../context.js";
import { toServiceError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ServiceCaller } from "../service-token.js";
import type { ServiceTokenVerifier } from "../service-token-verifier.js";
import { bindCallContext } from "./call-context.js";

/** Trailer on a call the credential gate refused, so a caller tells a bad service token from its user's bad credentials. */
export const CREDENTIAL_REFUSED_TRAILER = "x-apgms-service-credential";

/** True when the server refused the call's service token (a deployment fault: keys or clocks), not the request. */
export function isServiceCredentialRefusal(err: unknown): boolean {
  const md = (err as { metadata?: Metadata } | undefined)?.metadata;
  return typeof md?.get === "function" && md.get(CREDENTIAL_REFUSED_TRAILER).length > 0;
}
const REQUEST_ID = /^[\w.:-]{1,128}$/;

function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function bearer(md: Metadata): string | undefined {
  const value = first(md, MetadataKeys.authorization);
  return value?.startsWith("Bearer ") ? value.slice(7).trim() : undefined;
}

function deadlineOf(call: { getDeadline(): Date | number }): number | undefined {
  const d = call.getDeadline();
  if (d instanceof Date) return d.getTime();
  return Number.isFinite(d) ? d : undefined;
}

/**
 * Wraps every method of a service so it runs only after the caller's service
 * token is verified; the call's tenant and principal are the token's. The
 * request id is a correlation id, not an authority: it stays plain metadata.
 */
export function authenticateService(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  verifier: ServiceTokenVerifier,
  logger: Logger,
): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name];
    if (typeof handler !== "function") continue;
    if (method.requestStream) throw new Error(`${method.path}: only unary and server-streaming methods are authenticated so far`);
    // A unary call answers through its callback; a server stream through its "error" event (grpc-js sends that status).
    type Call = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;
    const invoke = handler as (call: Call, callback?: sendUnaryData<unknown>) => void;
    out[name] = (call: Call, callback?: sendUnaryData<unknown>) => {
      const fail = (err: ReturnType<typeof toServiceError>) => (callback ? callback(err) : (call as ServerWritableStream<unknown, unknown>).emit("error", err));
      const requestId = first(call.metadata, MetadataKeys.requestId);
      const run = (caller: ServiceCaller) => {
        const ctx: RequestContext = {
          requestId: requestId && REQUEST_ID.test(requestId) ? requestId : randomUUID(),
          tenantId: caller.tenantId,
          principal: caller.principal,
          deadline: deadlineOf(call),
        };
        bindCallContext(call, ctx);
        try {
          invoke(call, callback);
        } catch (err) {
          // A handler that throws synchronously must not become an unhandled rejection.
          logger.error({ err, method: method.path }, "unhandled error in handler");
          fail(toServiceError(err));
        }
      };
      const token = bearer(call.metadata);
      // A token this verifier already accepted (until its expiry) runs at once; any other is verified first.
      const known = verifier.verified?.(token);
      if (known) return run(known);
      verifier.verify(token).then(run, (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        logger.warn({ method: method.path, requestId, reason }, "gRPC call refused: service credential");
        const refusal = toServiceError(err);
        refusal.metadata?.set(CREDENTIAL_REFUSED_TRAILER, "refused");
        fail(refusal);
      });
    };
  }
  return out;
}
