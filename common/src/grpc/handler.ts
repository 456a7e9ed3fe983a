import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import { runWithContext, type RequestContext } from "../context.js";
import { DomainError, toServiceError, UnauthenticatedError } from "../errors.js";
import type { Logger } from "../logger.js";
import { callContext } from "./call-context.js";

export type UnaryHandler<Req, Res> = (request: Req, ctx: RequestContext) => Promise<Res>;

/**
 * Adapts an async handler to grpc-js: runs it inside the context the server's
 * credential gate verified (tenant and principal from the service token, see
 * authenticate.ts), and turns what it throws into a gRPC status (unknown
 * errors are logged with their cause and masked as INTERNAL). A call that did
 * not pass the gate is refused: a server wired without it fails closed.
 */
export function unary<Req, Res>(logger: Logger, method: string, handler: UnaryHandler<Req, Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const ctx = callContext(call);
    if (!ctx) {
      callback(toServiceError(new UnauthenticatedError("service credential required")));
      return;
    }
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
