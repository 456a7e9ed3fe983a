import { randomUUID } from "node:crypto";
import type { Metadata, sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import { MetadataKeys, parsePrincipal, runWithContext, type RequestContext } from "../context.js";
import { DomainError, toServiceError } from "../errors.js";
import type { Logger } from "../logger.js";

function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** Reads the request context that a client put into the call metadata. */
export function contextFromMetadata(md: Metadata, deadline?: number): RequestContext {
  return {
    requestId: first(md, MetadataKeys.requestId) ?? randomUUID(),
    tenantId: first(md, MetadataKeys.tenant),
    principal: parsePrincipal(first(md, MetadataKeys.principal)),
    deadline,
  };
}

export type UnaryHandler<Req, Res> = (request: Req, ctx: RequestContext) => Promise<Res>;

/**
 * Adapts an async handler to grpc-js: runs it inside the caller's request
 * context, and turns what it throws into a gRPC status (unknown errors are
 * logged with their cause and masked as INTERNAL).
 */
export function unary<Req, Res>(logger: Logger, method: string, handler: UnaryHandler<Req, Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const deadline = call.getDeadline();
    const ctx = contextFromMetadata(call.metadata, deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined);
    runWithContext(ctx, () => {
      handler(call.request, ctx).then(
        (res) => callback(null, res),
        (err: unknown) => {
          if (!(err instanceof DomainError)) logger.error({ err, method }, "unhandled error in handler");
          else logger.debug({ method, code: err.code, msg: err.message }, "request refused");
          callback(toServiceError(err));
        },
      );
    });
  };
}
