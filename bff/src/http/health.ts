import type { Router } from "express";
import express from "express";

export interface ReadinessCheck {
  name: string;
  check(): Promise<unknown>;
}

/** /healthz: the process answers. /readyz: every dependency answers too (gRPC peers, Redis). */
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
          return [c.name, "ok"] as const;
        } catch (err) {
          return [c.name, (err as Error).message || "failed"] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks: Object.fromEntries(results) });
  });
  return router;
}
