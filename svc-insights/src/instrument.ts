// Imported first by main.ts, so instrumentation patches grpc-js and pg before they load.
import { startTelemetry } from "@apgms/common/telemetry";

export const telemetry = startTelemetry("svc-insights");
