import { createJetStreamAuditSink } from "@apgms/common/audit/jetstream-sink";
import { auditStream } from "@apgms/common/audit/stream";
import { createAuditTrail } from "@apgms/common/audit/trail";
import type { Logger } from "@apgms/common/logger";
import { connectNats, type NatsConnection } from "@apgms/common/nats/connect";
import type { Logger as OtelLogger } from "@opentelemetry/api-logs";
import { createEdgeAudit, type EdgeAudit } from "./edge-audit.js";

export interface StoredAuditOptions {
  natsUrl: string;
  natsPrefix: string;
  logger: Logger;
  /** Default: the global OpenTelemetry logger provider's (see startTelemetry). */
  otel?: OtelLogger;
  /** An open connection to use instead of connecting (it is not drained on close). */
  nc?: NatsConnection;
}

/**
 * The edge's audit trail with its stored part: records go to the JetStream
 * audit stream (svc-identity stores them) as well as to the log and OTLP.
 */
export async function startStoredAudit(options: StoredAuditOptions): Promise<{ audit: EdgeAudit; close(): Promise<void> }> {
  const { natsUrl, natsPrefix, logger, otel } = options;
  const nc = options.nc ?? (await connectNats({ url: natsUrl, name: "bff" }));
  const sink = await createJetStreamAuditSink(nc, auditStream(natsPrefix));
  const audit = createEdgeAudit(createAuditTrail({ source: "bff", logger, sink, otel }));
  return {
    audit,
    async close() {
      await audit.flush();
      if (!options.nc) await nc.drain();
    },
  };
}
