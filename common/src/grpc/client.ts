import {
  Metadata,
  status,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ServiceDefinition,
  type ServiceError,
} from "@grpc/grpc-js";
import { currentContext, MetadataKeys, type RequestContext } from "../context.js";
import type { CallCredentialSource } from "../service-token.js";
import { grpcChannelCredentials, type GrpcTlsConfig } from "./tls.js";

type UnaryCallback<Res> = (err: ServiceError | null, res: Res) => void;
/** The last overload of a ts-proto grpc-js client method. */
type UnaryMethod<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: UnaryCallback<Res>) => ClientUnaryCall;

export interface CallOverrides {
  /** Context to propagate; defaults to the current async context. */
  context?: RequestContext;
  timeoutMs?: number;
}

/** A promise-returning view of a generated client: one async function per unary RPC. */
export type PromiseClient<C> = {
  [K in keyof C as C[K] extends UnaryMethod<never, unknown> ? K : never]: C[K] extends UnaryMethod<infer Req, infer Res>
    ? (request: Req, overrides?: CallOverrides) => Promise<Res>
    : never;
};

export interface ClientOptions {
  /** Deadline of every call unless the request context has an earlier one. */
  timeoutMs?: number;
  /** Retries of idempotent reads on UNAVAILABLE. */
  retries?: number;
  /** Which methods are safe to retry; default: names starting with get, batchGet, list, resolve or verify. */
  isIdempotent?: (method: string) => boolean;
  /**
   * Mints the service token each call carries (tenant and principal of the
   * call's context); the server refuses calls without one.
   */
  credentials?: CallCredentialSource;
}

const defaultIdempotent = (method: string) => /^(get|batchGet|list|resolve|verify)/.test(method);

/**
 * The metadata of a call: the service token (which alone carries the tenant
 * and principal) and the request id.
 */
export async function metadataFor(ctx: RequestContext | undefined, credentials?: CallCredentialSource): Promise<Metadata> {
  const md = new Metadata();
  if (credentials) md.set(MetadataKeys.authorization, `Bearer ${await credentials.tokenFor(ctx)}`);
  if (ctx) md.set(MetadataKeys.requestId, ctx.requestId);
  return md;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wraps a generated grpc-js client so every call has a deadline, carries a
 * service token for its tenant and principal and the request id, and retries idempotent reads
 * on UNAVAILABLE with a short backoff (inside the same deadline).
 */
export function promiseClient<C extends Client>(
  raw: C,
  definition: ServiceDefinition,
  options: ClientOptions = {},
): PromiseClient<C> {
  const { timeoutMs = 5_000, retries = 2, isIdempotent = defaultIdempotent, credentials } = options;
  const out: Record<string, (req: unknown, o?: CallOverrides) => Promise<unknown>> = {};
  for (const method of Object.keys(definition)) {
    const fn = (raw as unknown as Record<string, UnaryMethod<unknown, unknown>>)[method];
    if (typeof fn !== "function") continue;
    const retryable = isIdempotent(method);
    out[method] = async (request, overrides) => {
      const ctx = overrides?.context ?? currentContext();
      const md = await metadataFor(ctx, credentials);
      let deadline = Date.now() + (overrides?.timeoutMs ?? timeoutMs);
      if (ctx?.deadline && ctx.deadline < deadline) deadline = ctx.deadline;
      for (let attempt = 0; ; attempt++) {
        if (ctx) ctx.upstreamCalls = (ctx.upstreamCalls ?? 0) + 1;
        try {
          return await new Promise((resolve, reject) => {
            fn.call(raw, request, md, { deadline }, (err, res) => (err ? reject(err) : resolve(res)));
          });
        } catch (err) {
          const code = (err as Partial<ServiceError>).code;
          const backoff = 25 * 2 ** attempt;
          if (!retryable || code !== status.UNAVAILABLE || attempt >= retries || Date.now() + backoff >= deadline) throw err;
          await sleep(backoff);
        }
      }
    };
  }
  return out as PromiseClient<C>;
}

type ClientCtor<C> = new (address: string, creds: ChannelCredentials, options?: object) => C;

/**
 * Creates a generated client and wraps it: plaintext unless `tls` names a CA
 * (then TLS, and mTLS when it also names a certificate and key); pass
 * `channel` to share one connection between clients.
 */
export function connect<C extends Client>(
  Ctor: ClientCtor<C> & { service: ServiceDefinition },
  address: string,
  options: ClientOptions & { channel?: ReturnType<Client["getChannel"]>; tls?: GrpcTlsConfig } = {},
): { client: PromiseClient<C>; raw: C } {
  const raw = new Ctor(address, grpcChannelCredentials(options.tls), {
    "grpc.keepalive_time_ms": 30_000,
    "grpc.max_receive_message_length": 8 * 1024 * 1024,
    // A restarted peer is found again within seconds (grpc-js defaults to 1 s growing to 120 s).
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 3_000,
    ...(options.channel ? { channelOverride: options.channel } : {}),
  });
  return { client: promiseClient(raw, Ctor.service, options), raw };
}

export interface StreamCallOptions {
  /** The call's tenant and principal (default: the current context). */
  context?: RequestContext;
  credentials?: CallCredentialSource;
  /** The whole stream's deadline (default 10 min: an export may be long). */
  timeoutMs?: number;
}

/**
 * A server-streaming call with the metadata promiseClient's calls carry (the
 * service token, the request id), as an async iterable of its messages: a
 * consumer that reads slowly slows the server down (back-pressure), and the
 * stream's error status is thrown from the loop. Not retried: a consumer
 * that needs to resume keeps its own position.
 */
export async function* streamCall<Req, Res>(
  start: (request: Req, metadata: Metadata, options: Partial<CallOptions>) => ClientReadableStream<Res>,
  request: Req,
  options: StreamCallOptions = {},
): AsyncGenerator<Res> {
  const ctx = options.context ?? currentContext();
  const md = await metadataFor(ctx, options.credentials);
  if (ctx) ctx.upstreamCalls = (ctx.upstreamCalls ?? 0) + 1;
  const call = start(request, md, { deadline: Date.now() + (options.timeoutMs ?? 600_000) });
  try {
    for await (const message of call) yield message as Res;
  } finally {
    // A consumer that stops early cancels the server's work.
    call.cancel();
  }
}
