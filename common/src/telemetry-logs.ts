import { logs } from "@opentelemetry/api-logs";
import { OTLPLogExporter as OTLPGrpcLogExporter } from "@opentelemetry/exporter-logs-otlp-grpc";
import { OTLPLogExporter as OTLPHttpJsonLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as OTLPProtoLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from "@opentelemetry/sdk-logs";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

const PROTOCOLS = ["http/protobuf", "http/json", "grpc"] as const;
type LogProtocol = (typeof PROTOCOLS)[number];

/** The log protocol the environment asks for; "http/protobuf" when unset, an error when unknown. */
export function otlpLogProtocol(env: NodeJS.ProcessEnv): LogProtocol {
  const name = env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL ? "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const value = (env[name] ?? "").trim();
  if (!value) return "http/protobuf";
  if (!(PROTOCOLS as readonly string[]).includes(value)) throw new Error(`${name}="${value}" is not supported; use one of ${PROTOCOLS.join(", ")}`);
  return value as LogProtocol;
}

function createOtlpLogExporter(env: NodeJS.ProcessEnv): LogRecordExporter {
  const protocol = otlpLogProtocol(env);
  const logsEndpoint = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT?.trim();
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (protocol === "grpc") return new OTLPGrpcLogExporter({ url: logsEndpoint || baseEndpoint || undefined });
  const url = logsEndpoint || (baseEndpoint ? `${baseEndpoint.replace(/\/+$/, "")}/v1/logs` : undefined);
  return protocol === "http/json" ? new OTLPHttpJsonLogExporter({ url }) : new OTLPProtoLogExporter({ url });
}

export interface LogExport {
  /** Undefined when no endpoint is configured (nothing is exported, nothing paid). */
  provider?: LoggerProvider;
  /** Flushes what is batched, then stops. */
  shutdown(): Promise<void>;
}

export interface LogExportOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides the OTLP exporter (exported one record at a time). */
  exporter?: LogRecordExporter;
}

/**
 * An OpenTelemetry logger provider exporting over OTLP, built explicitly (not
 * sdk-node's defaults, which retry for seconds at shutdown with no collector).
 * Off unless OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is
 * set; OTEL_LOGS_EXPORTER=none turns it off too. The transport follows
 * OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL (http/protobuf by default, http/json, grpc).
 * Batched: records wait at most 1 s (OTEL_BLRP_SCHEDULE_DELAY overrides).
 */
export function createLogExport(serviceName: string, options: LogExportOptions = {}): LogExport {
  const env = options.env ?? process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!options.exporter && (!endpoint || env.OTEL_LOGS_EXPORTER === "none")) return { shutdown: async () => {} };
  const exporter = options.exporter ?? createOtlpLogExporter(env);
  const processor = options.exporter
    ? new SimpleLogRecordProcessor({ exporter })
    : new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: Number(env.OTEL_BLRP_SCHEDULE_DELAY ?? 1_000) });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? serviceName }),
    processors: [processor],
  });
  return { provider, shutdown: () => provider.shutdown() };
}

/** createLogExport, registered as the process's global logger provider (what `logs.getLogger` returns). */
export function startLogExport(serviceName: string, options: LogExportOptions = {}): LogExport {
  const exported = createLogExport(serviceName, options);
  if (exported.provider) logs.setGlobalLoggerProvider(exported.provider);
  return exported;
}
