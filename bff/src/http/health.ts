import type { Router } from "express";
import express from "express";

export interface ReadinessCheck {
  name: string;
  check(): Promise<unknown>;
  /**
   * Reported, but its failure does not make the edge unready: only the fields
   * that need it fail (svc-billing), so the edge keeps serving the rest.
   */
  optional?: boolean;
}

/**
 * /healthz: the process answers. /readyz: every dependency answers too (gRPC
 * peers, Redis): 200 "ready"; 200 "degraded" when only optional ones fail;
 * 503 "not ready" when a required one fails.
 */
export function healthRoutes(checks: ReadinessCheck[], timeoutMs = 1_000): Router {
  const router = express.Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await Promise.race([c.check(), new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs).unref())]);
          return [c.name, "ok", c.optional] as const;
        } catch (err) {
          return [c.name, (err as Error).message || "failed", c.optional] as const;
        }
      }),
    );
    const ready = results.every(([, r, optional]) => r === "ok" || optional);
    const status = !ready ? "not ready" : results.every(([, r]) => r === "ok") ? "ready" : "degraded";
    res.status(ready ? 200 : 503).json({ status, checks: Object.fromEntries(results.map(([name, r]) => [name, r])) });
  });
  return router;
}
