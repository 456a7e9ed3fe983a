// The once-only record: a job's database effect and the row saying it was
// handled commit in one transaction, as the job's tenant (row-level security).
import { withTenant } from "@apgms/common";
import type { JobOutcome } from "../generated/prisma/enums.js";
import type { JobTransaction, PrismaClient } from "./client.js";

export interface HandledKey {
  tenantId: string;
  /** The job kind. */
  handler: string;
  /** The job's id (Apgms-Job-Id). */
  messageId: string;
}

/** "duplicate": an earlier delivery (or another worker) already committed this job; nothing ran. */
export type HandleResult = JobOutcome | "duplicate";

/**
 * Runs `effect` at most once to completion per key. The row is inserted
 * first: a second delivery handled at the same moment by another worker waits
 * on the primary key until the first commits (then finds the row and runs
 * nothing) or rolls back (then runs). A throw from `effect` rolls back both.
 */
export async function handleOnce(prisma: PrismaClient, key: HandledKey, effect: (tx: JobTransaction) => Promise<JobOutcome | void>): Promise<HandleResult> {
  const { tenantId, handler, messageId } = key;
  return withTenant(prisma, tenantId, async (tx) => {
    const { count } = await tx.handledMessage.createMany({ data: [{ tenantId, handler, messageId, outcome: "completed" }], skipDuplicates: true });
    if (count === 0) return "duplicate";
    const outcome = (await effect(tx)) ?? "completed";
    if (outcome !== "completed") {
      await tx.handledMessage.update({ where: { tenantId_handler_messageId: { tenantId, handler, messageId } }, data: { outcome } });
    }
    return outcome;
  });
}
