import { trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { currentContext } from "./context.js";

export type { Logger };

/**
 * JSON logs; each line carries the request id, tenant and trace id of the call
 * it belongs to. Lines go to stdout unless a destination is given (tests).
 */
export function createLogger(service: string, options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { service },
    messageKey: "msg",
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const ctx = currentContext();
      const span = trace.getActiveSpan();
      const out: Record<string, string> = {};
      if (ctx) {
        out.requestId = ctx.requestId;
        if (ctx.tenantId) out.tenantId = ctx.tenantId;
      }
      if (span) out.traceId = span.spanContext().traceId;
      return out;
    },
    ...options,
  };
  return destination ? pino(config, destination) : pino(config);
}
