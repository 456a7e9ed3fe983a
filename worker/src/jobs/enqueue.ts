import { randomUUID } from "node:crypto";
import { publishOnce, type JetStreamClient } from "@apgms/common/nats/jetstream";
import { headers } from "@nats-io/transport-node";
import { JOB_ID, TENANT_ID } from "./headers.js";
import type { WorkerTopology } from "./topology.js";

export interface EnqueueOptions {
  kind: string;
  tenantId: string;
  payload: unknown;
  /** Default: a new UUID. Enqueuing the same id again inside the duplicate window stores it once; later, the worker handles it once anyway. */
  jobId?: string;
}

/** Puts a job on the jobs stream, waiting for the stream's acknowledgement. Returns the job id. */
export async function enqueueJob(js: JetStreamClient, topology: WorkerTopology, options: EnqueueOptions): Promise<string> {
  const { kind, tenantId, payload, jobId = randomUUID() } = options;
  const h = headers();
  h.set(JOB_ID, jobId);
  h.set(TENANT_ID, tenantId);
  await publishOnce(js, topology.jobSubject(kind), new TextEncoder().encode(JSON.stringify(payload)), { msgId: jobId, headers: h });
  return jobId;
}
