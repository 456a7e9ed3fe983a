import { InvalidArgumentError } from "@apgms/common";
import type { FunnelRequest } from "@apgms/proto/apgms/insights/v1/analytics";
import { DEFAULT_FUNNEL_WINDOW_SECONDS, DEFAULT_SPLIT_LIMIT, MAX_FUNNEL_STEPS, MAX_FUNNEL_WINDOW_SECONDS, MAX_RAW_RANGE_MS, MAX_SPLIT_LIMIT, MIN_FUNNEL_STEPS } from "./limits.js";
import { eventName, limit, optionalAttributeKey, timeRange, type TimeRange } from "./query-input.js";

export interface FunnelQuery {
  steps: string[];
  range: TimeRange;
  windowMs: number;
  breakdown?: { key: string; limit: number };
}

export function funnelQuery(req: FunnelRequest): FunnelQuery {
  if (req.steps.length < MIN_FUNNEL_STEPS || req.steps.length > MAX_FUNNEL_STEPS) {
    throw new InvalidArgumentError("steps", `must hold ${MIN_FUNNEL_STEPS}..${MAX_FUNNEL_STEPS} event names (a funnel reads raw events, step by step)`);
  }
  const steps = req.steps.map((s, i) => eventName(`steps[${i}]`, s));
  if (new Set(steps).size !== steps.length) throw new InvalidArgumentError("steps", "must all be different event names");
  const window = req.conversionWindowSeconds === 0 ? DEFAULT_FUNNEL_WINDOW_SECONDS : req.conversionWindowSeconds;
  if (!Number.isInteger(window) || window < 1 || window > MAX_FUNNEL_WINDOW_SECONDS) {
    throw new InvalidArgumentError("conversion_window_seconds", `must be 1..${MAX_FUNNEL_WINDOW_SECONDS} (0: ${DEFAULT_FUNNEL_WINDOW_SECONDS})`);
  }
  const key = optionalAttributeKey("breakdown_by", req.breakdownBy);
  if (!key && req.breakdownLimit !== 0) throw new InvalidArgumentError("breakdown_limit", "is only for breakdown_by");
  return {
    steps,
    range: timeRange(req.startTime, req.endTime, MAX_RAW_RANGE_MS, "for a funnel (it reads raw events)"),
    windowMs: window * 1000,
    breakdown: key ? { key, limit: limit("breakdown_limit", req.breakdownLimit, DEFAULT_SPLIT_LIMIT, MAX_SPLIT_LIMIT) } : undefined,
  };
}
