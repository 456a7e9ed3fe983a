import { OTLPTraceExporter as OTLPGrpcTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as OTLPHttpJsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { ExpressInstrumentation } from "@opentelemetry/instrumentation-express";
import { GraphQLInstrumentation } from "@opentelemetry/instrumentation-graphql";
import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { PinoInstrumentation } from "@opentelemetry/instrumentation-pino";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { startLogExport } from "./telemetry-logs.js";

export interface TelemetryOptions {
  /** Overrides the OTLP exporter (tests pass an in-memory exporter). */
  spanExporter?: SpanExporter;
  env?: NodeJS.ProcessEnv;
}

/** OTLP transports for traces (the values of OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL). */
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json", "grpc"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

const isOtlpProtocol = (value: string): value is OtlpProtocol => (OTLP_PROTOCOLS as readonly string[]).includes(value);

/** The trace protocol the environment asks for; "http/protobuf" when unset, an error when unknown. */
export function otlpTraceProtocol(env: NodeJS.ProcessEnv): OtlpProtocol {
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const value = (env[name] ?? "").trim();
  if (!value) return "http/protobuf";
  if (!isOtlpProtocol(value)) throw new Error(`${name}="${value}" is not supported; use one of ${OTLP_PROTOCOLS.join(", ")}`);
  return value;
}

/**
 * An OTLP exporter for the protocol, sending to the endpoint of `env` (a signal
 * endpoint as is; a base endpoint gets /v1/traces over HTTP, as the spec says).
 * Headers, timeout, compression and TLS still come from the standard variables.
 */
function createOtlpExporter(env: NodeJS.ProcessEnv, protocol: OtlpProtocol): SpanExporter {
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (protocol === "grpc") {
    // The exporter loads @grpc/grpc-js lazily (first export), after the gRPC
    // instrumentation is registered; its own calls run with tracing suppressed.
    return new OTLPGrpcTraceExporter({ url: tracesEndpoint || baseEndpoint || undefined });
  }
  const url = tracesEndpoint || (baseEndpoint ? `${baseEndpoint.replace(/\/+$/, "")}/v1/traces` : undefined);
  return protocol === "http/json" ? new OTLPHttpJsonTraceExporter({ url }) : new OTLPProtoTraceExporter({ url });
}

export interface Telemetry {
  enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Starts tracing before anything else is loaded (call it from the first import
 * of an entrypoint). Spans cross edge → gRPC → Postgres/Redis. Tracing runs only
 * when there is somewhere to send it: an OTLP endpoint in the environment or an
 * exporter passed in; otherwise nothing is installed and nothing is paid on the
 * hot path. The transport follows OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL
 * (http/protobuf by default, http/json, grpc). Metrics stay off; log records
 * go through createLogExport's provider (telemetry-logs.ts), not sdk-node's.
 */
export function startTelemetry(serviceName: string, options: TelemetryOptions = {}): Telemetry {
  const env = options.env ?? process.env;
  // Log records (the audit trail's export) have their own provider, on when a logs endpoint is set.
  const logExport = startLogExport(serviceName, { env });
  const tracing = startTracing(serviceName, options, env);
  return {
    enabled: tracing.enabled || logExport.provider !== undefined,
    shutdown: async () => {
      await tracing.shutdown();
      await logExport.shutdown();
    },
  };
}

function startTracing(serviceName: string, options: TelemetryOptions, env: NodeJS.ProcessEnv): Telemetry {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!options.spanExporter && !endpoint) return { enabled: false, shutdown: async () => {} };
  // Checked before anything is installed: a typo must stop the process, not drop every span.
  const protocol = options.spanExporter ? undefined : otlpTraceProtocol(env);

  env.OTEL_METRICS_EXPORTER ??= "none";
  env.OTEL_LOGS_EXPORTER ??= "none";
  env.OTEL_NODE_RESOURCE_DETECTORS ??= "env,host,os,process";

  const exporter = options.spanExporter ?? createOtlpExporter(env, protocol ?? "http/protobuf");
  const processor = options.spanExporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [processor],
    instrumentations: [
      new HttpInstrumentation(),
      new ExpressInstrumentation(),
      new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true }),
      new GrpcInstrumentation(),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
      new PinoInstrumentation(),
    ],
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
