import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
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

export interface TelemetryOptions {
  /** Overrides the OTLP exporter (tests pass an in-memory exporter). */
  spanExporter?: SpanExporter;
  env?: NodeJS.ProcessEnv;
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
 * hot path. Metrics and log exporters stay off unless configured explicitly.
 */
export function startTelemetry(serviceName: string, options: TelemetryOptions = {}): Telemetry {
  const env = options.env ?? process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!options.spanExporter && !endpoint) return { enabled: false, shutdown: async () => {} };

  env.OTEL_METRICS_EXPORTER ??= "none";
  env.OTEL_LOGS_EXPORTER ??= "none";
  env.OTEL_NODE_RESOURCE_DETECTORS ??= "env,host,os,process";

  const exporter = options.spanExporter ?? new OTLPTraceExporter();
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
