import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** The parts of an OTLP/JSON ExportTraceServiceRequest (and ExportLogsServiceRequest) the tests read. */
interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
}
interface OtlpExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}

interface OtlpLogRecord {
  timeUnixNano?: string;
  severityText?: string;
  eventName?: string;
  body?: OtlpAnyValue;
  attributes?: OtlpKeyValue[];
  traceId?: string;
}
interface OtlpLogsRequest {
  resourceLogs?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeLogs?: Array<{ scope?: { name?: string }; logRecords?: OtlpLogRecord[] }>;
  }>;
}

/** One received log record, flattened with its resource's service.name and its scope. */
export interface ReceivedLog {
  service: string;
  scope: string;
  eventName: string;
  severityText: string;
  body: string;
  /** "" when the record was emitted outside a trace. */
  traceId: string;
  /** Array attributes as string arrays. */
  attributes: Record<string, string | number | boolean | string[]>;
  /** The record as the exporter sent it (for grepping). */
  raw: string;
}

/** SpanKind as OTLP numbers it (SPAN_KIND_SERVER = 2, SPAN_KIND_CLIENT = 3). */
export const SpanKind = { SERVER: 2, CLIENT: 3 } as const;

/** One received span, flattened with its resource's service.name and its scope. */
export interface ReceivedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** Base endpoint for OTEL_EXPORTER_OTLP_ENDPOINT (exporters add /v1/traces). */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Log records received on /v1/logs. */
  logs: ReceivedLog[];
  /** Requests that were not a well-formed POST /v1/traces or /v1/logs. */
  rejected: string[];
  close(): Promise<void>;
}

function attributesOf(list: OtlpKeyValue[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list) {
    const v = value?.stringValue ?? value?.intValue ?? value?.boolValue;
    if (v !== undefined) out[key] = typeof v === "string" && value?.intValue !== undefined ? Number(v) : v;
  }
  return out;
}

function logAttributesOf(list: OtlpKeyValue[] = []): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = attributesOf(list);
  for (const { key, value } of list) {
    if (value?.arrayValue) out[key] = (value.arrayValue.values ?? []).map((v) => String(v.stringValue ?? v.intValue ?? v.boolValue ?? ""));
  }
  return out;
}

function receiveLogs(body: OtlpLogsRequest, logs: ReceivedLog[]): void {
  for (const rl of body.resourceLogs ?? []) {
    const service = String(attributesOf(rl.resource?.attributes)["service.name"] ?? "");
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        logs.push({
          service,
          scope: sl.scope?.name ?? "",
          eventName: r.eventName ?? "",
          severityText: r.severityText ?? "",
          body: r.body?.stringValue ?? "",
          traceId: r.traceId ?? "",
          attributes: logAttributesOf(r.attributes),
          raw: JSON.stringify(r),
        });
      }
    }
  }
}

/** A minimal OTLP/HTTP JSON trace and log receiver on 127.0.0.1 (a random port). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const logs: ReceivedLog[] = [];
  const rejected: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        if (req.method !== "POST" || (req.url !== "/v1/traces" && req.url !== "/v1/logs")) throw new Error(`unexpected ${req.method} ${req.url}`);
        if (!String(req.headers["content-type"]).startsWith("application/json")) throw new Error(`content-type ${req.headers["content-type"]}`);
        let raw = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
        if (req.url === "/v1/logs") {
          receiveLogs(JSON.parse(raw.toString("utf8")) as OtlpLogsRequest, logs);
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
          return;
        }
        const body = JSON.parse(raw.toString("utf8")) as OtlpExportRequest;
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attributesOf(rs.resource?.attributes)["service.name"] ?? "");
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                service,
                scope: ss.scope?.name ?? "",
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? "",
                name: s.name,
                kind: s.kind ?? 0,
                attributes: attributesOf(s.attributes),
              });
            }
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch (err) {
        rejected.push((err as Error).message);
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ message: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    logs,
    rejected,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
