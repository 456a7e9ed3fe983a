import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from "@grpc/grpc-js";
import { runWithContext, type RequestContext } from "../context.js";
import { CancelledError, DomainError, toServiceError, UnauthenticatedError } from "../errors.js";
import type { Logger } from "../logger.js";
import { callContext } from "./call-context.js";
import type { Reply } from "./encoded.js";

/** Resolves the reply, or its bytes when it is at hand already encoded (the server writes those as they are). */
export type UnaryHandler<Req, Res> = (request: Req, ctx: RequestContext) => Promise<Reply<Res>>;

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
        // An EncodedMessage passes through: createGrpcServer's serializers send its bytes (see encoded.ts).
        (res) => callback(null, res as Res),
        (err: unknown) => {
          if (!(err instanceof DomainError)) logger.error({ err, method }, "unhandled error in handler");
          else logger.debug({ method, code: err.code, msg: err.message }, "request refused");
          callback(toServiceError(err));
        },
      );
    });
  };
}

/** Sends one message of a server stream; resolves once the stream can take more (back-pressure). */
export type StreamWrite<Res> = (message: Res) => Promise<void>;
export type StreamHandler<Req, Res> = (request: Req, ctx: RequestContext, write: StreamWrite<Res>) => Promise<void>;

/**
 * `unary()` for a server-streaming RPC: the handler writes messages and the
 * stream ends when it resolves; what it throws becomes the stream's status.
 * `write` waits while the client is slow (memory stays bounded whatever the
 * size of the answer) and fails once the client has cancelled, which stops
 * the handler.
 */
export function serverStream<Req, Res>(logger: Logger, method: string, handler: StreamHandler<Req, Res>) {
  return (call: ServerWritableStream<Req, Res>): void => {
    const ctx = callContext(call);
    if (!ctx) {
      call.emit("error", toServiceError(new UnauthenticatedError("service credential required")));
      return;
    }
    const write: StreamWrite<Res> = (message) =>
      new Promise<void>((resolve, reject) => {
        if (call.cancelled || call.destroyed) return reject(new CancelledError("the client cancelled the stream"));
        if (call.write(message)) return resolve();
        const done = () => {
          call.off("drain", done);
          call.off("close", done);
          if (call.cancelled || call.destroyed) reject(new CancelledError("the client cancelled the stream"));
          else resolve();
        };
        call.on("drain", done);
        call.on("close", done);
      });
    runWithContext(ctx, () => {
      handler(call.request, ctx, write).then(
        () => call.end(),
        (err: unknown) => {
          if (err instanceof CancelledError) return;
          if (!(err instanceof DomainError)) logger.error({ err, method }, "unhandled error in handler");
          else logger.debug({ method, code: err.code, msg: err.message }, "request refused");
          // grpc-js ends the stream with this status after the messages already written.
          call.emit("error", toServiceError(err));
        },
      );
    });
  };
}
