import type { IncomingMessage, ServerResponse } from "node:http";
import { getOperationAST, type ExecutionResult } from "graphql";
import { processRegularResult } from "graphql-yoga";
import type { ServerContext } from "../graphql/context.js";
import { normalizeRequestErrors } from "../graphql/use-http-status.js";
import { UPSTREAM_CALLS_HEADER } from "../graphql/use-upstream-calls.js";
import type { Yoga } from "../graphql/yoga.js";

/**
 * The edge's hot path: an ordinary GraphQL POST (JSON body with a length, a
 * JSON or GraphQL-response Accept) runs through the same envelop pipeline as
 * Yoga — the same plugins on parse, validate, context and execute (limits,
 * rate limits, masking, input error codes, audit), the same result
 * processing (processRegularResult) — without Yoga's Fetch-API translation of
 * the request and the response, which cost about a fifth of the edge's CPU per
 * request (docs/benchmarks.md). Whatever is not that ordinary request, or
 * fails before execution (a body that is no GraphQL request, a parse or
 * validation error, an operation that cannot be resolved), is handed to Yoga
 * itself, so every refusal keeps Yoga's exact answer.
 */
export interface FastGraphql {
  /** Whether the request's line and headers allow the fast path (nothing read yet). */
  accepts(req: IncomingMessage): boolean;
  serve(req: IncomingMessage, res: ServerResponse, context: ServerContext): Promise<void>;
}

export interface FastGraphqlOptions {
  yoga: Yoga;
  maxBodyBytes: number;
  /** Also answer x-apgms-upstream-calls (UPSTREAM_CALLS_HEADER), as useUpstreamCallsHeader does on Yoga's path. */
  upstreamCallsHeader?: boolean;
}

const PARAM_KEYS = new Set(["query", "variables", "operationName", "extensions"]);
const REGULAR_MEDIA_TYPES = ["application/graphql-response+json", "application/json"];

interface Params {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  extensions?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** GraphQL-over-HTTP parameters exactly as Yoga accepts them without complaint; anything else goes to Yoga. */
function paramsOf(body: unknown): Params | undefined {
  if (!isObject(body)) return undefined;
  for (const key of Object.keys(body)) if (!PARAM_KEYS.has(key)) return undefined;
  const { query, variables, operationName, extensions } = body;
  if (typeof query !== "string" || query === "") return undefined;
  if (variables != null && !isObject(variables)) return undefined;
  if (operationName != null && typeof operationName !== "string") return undefined;
  if (extensions != null && !isObject(extensions)) return undefined;
  return {
    query,
    ...(variables != null ? { variables } : {}),
    ...(operationName != null ? { operationName } : {}),
    ...(extensions != null ? { extensions } : {}),
  };
}

/**
 * The media type Yoga's result processing picks for this Accept among the
 * regular (non-streaming) ones, by its own rule (the last match wins, Accept
 * read from its end); undefined when it would pick none of them.
 */
export function regularMediaType(accept: string | undefined): string | undefined {
  const key = accept ?? "";
  if (mediaTypes.has(key)) return mediaTypes.get(key);
  const chosen = pickMediaType(accept);
  // Clients send few distinct Accept headers; a bounded memo keeps a flood of odd ones from growing it.
  if (mediaTypes.size >= 256) mediaTypes.clear();
  mediaTypes.set(key, chosen);
  return chosen;
}

const mediaTypes = new Map<string, string | undefined>();

function pickMediaType(accept: string | undefined): string | undefined {
  let chosen: string | undefined;
  const asked = (accept || "*/*").replace(/\s/g, "").toLowerCase().split(",").reverse();
  for (const entry of asked) {
    const [type, ...params] = entry.split(";");
    if (!type) continue;
    const charset = params.find((p) => p.includes("charset=")) ?? "charset=utf-8";
    if (charset !== "charset=utf-8") continue;
    const [pre, suf] = type.split("/");
    for (const candidate of REGULAR_MEDIA_TYPES) {
      const [cPre, cSuf] = candidate.split("/");
      if ((pre === "*" || pre === cPre) && (suf === "*" || suf === cSuf)) chosen = candidate;
    }
  }
  return chosen;
}

/** Whether Yoga would pick a streaming processor (multipart, SSE) for this Accept: then it is Yoga's. */
function asksForStream(accept: string | undefined): boolean {
  return accept !== undefined && /multipart\/mixed|text\/event-stream/i.test(accept);
}

function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
    });
    req.once("end", () => (size === length ? resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)) : reject(new Error("body length mismatch"))));
    req.once("error", reject);
  });
}

/** What Yoga's plugins read of the Fetch Request they are given: its method, URL and headers. */
function requestView(req: IncomingMessage) {
  return {
    method: "POST",
    url: `http://localhost${req.url ?? "/graphql"}`,
    headers: {
      get: (name: string): string | null => {
        const value = req.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
      has: (name: string): boolean => req.headers[name.toLowerCase()] !== undefined,
    },
  };
}

/** processRegularResult's Response, without the Fetch API: what it would have sent. */
class PlainResponse {
  constructor(
    readonly body: string | null,
    readonly init: { status?: number; headers?: Record<string, string> },
  ) {}
}

export function createFastGraphql(options: FastGraphqlOptions): FastGraphql {
  const { yoga, maxBodyBytes, upstreamCallsHeader } = options;
  const plainFetch = { Response: PlainResponse } as unknown as Parameters<typeof processRegularResult>[1];

  /** Yoga answers a request whose body this path already read. */
  async function viaYoga(req: IncomingMessage, res: ServerResponse, body: Buffer, context: ServerContext): Promise<void> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    const response = await yoga.fetch(`http://localhost${req.url ?? "/graphql"}`, { method: "POST", headers, body: new Uint8Array(body) }, context);
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => (out[name] = value));
    res.writeHead(response.status, out);
    res.end(Buffer.from(await response.arrayBuffer()));
  }

  return {
    accepts(req) {
      if (req.method !== "POST") return false;
      const type = req.headers["content-type"]?.toLowerCase().replace(/\s/g, "");
      if (type !== "application/json" && type !== "application/json;charset=utf-8") return false;
      const length = Number(req.headers["content-length"]);
      if (!Number.isInteger(length) || length <= 0 || length > maxBodyBytes) return false;
      const accept = req.headers.accept;
      return !asksForStream(accept) && regularMediaType(accept) !== undefined;
    },

    async serve(req, res, context) {
      const body = await readBody(req, Number(req.headers["content-length"]));
      let params: Params | undefined;
      try {
        params = paramsOf(JSON.parse(body.toString("utf8")));
      } catch {
        params = undefined;
      }
      if (!params) return viaYoga(req, res, body, context);

      // Yoga's own plugins read the request's method and headers from the context (never its body).
      const enveloped = yoga.getEnveloped({ ...context, params, request: requestView(req) });
      let document;
      try {
        document = enveloped.parse(params.query);
      } catch {
        return viaYoga(req, res, body, context);
      }
      const operation = getOperationAST(document, params.operationName);
      if (!operation || operation.operation === "subscription") return viaYoga(req, res, body, context);
      try {
        // The document limits (armor) throw rather than return their refusal.
        if (enveloped.validate(enveloped.schema, document).length > 0) return viaYoga(req, res, body, context);
      } catch {
        return viaYoga(req, res, body, context);
      }

      const contextValue = await enveloped.contextFactory();
      const executed = (await enveloped.execute({
        schema: enveloped.schema,
        document,
        contextValue,
        variableValues: params.variables,
        operationName: params.operationName,
      })) as ExecutionResult;
      const result = normalizeRequestErrors(executed, params.operationName);

      const processed = (await processRegularResult(result, plainFetch, regularMediaType(req.headers.accept)!)) as unknown as PlainResponse;
      const headers: Record<string, string> = { ...processed.init.headers };
      const limits = context.rateLimit?.headers();
      if (limits) Object.assign(headers, limits);
      if (upstreamCallsHeader) headers[UPSTREAM_CALLS_HEADER] = String(context.requestContext.upstreamCalls ?? 0);
      const payload = processed.body ?? "";
      headers["content-length"] = String(Buffer.byteLength(payload));
      res.writeHead(processed.init.status ?? 200, headers);
      res.end(payload);
    },
  };
}
