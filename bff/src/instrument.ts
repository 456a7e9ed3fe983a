import { startTelemetry } from "@apgms/common/telemetry";

/** Imported first by main.ts, so instrumentation patches modules before they load. */
export const telemetry = startTelemetry("bff");
