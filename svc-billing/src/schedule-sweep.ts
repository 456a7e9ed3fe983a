import { DomainError, withTenant, type Logger } from "@apgms/common";
import type { BillingCache } from "./cache.js";
import type { OutboxWake } from "@apgms/common/outbox/index";
import { writing } from "./cache.js";
import type { Tx } from "./db/client.js";
import { transitionCampaign, transitionEvent } from "./db/campaigns.js";
import { recordEvent } from "./db/outbox.js";
import type { CampaignAction } from "./domain/lifecycle.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { announceThresholdIn } from "./handlers/budget-threshold.js";
import { campaignToProto } from "./handlers/catalog-to-proto.js";

const BATCH = 500;

interface Due {
  tenantId: string;
  id: string;
}

/**
 * What time does to campaigns, done by every instance every few seconds (a
 * second instance doing the same finds the work done: each step is a locked
 * transition or a conditional update, so nothing happens twice):
 * - a SCHEDULED campaign whose start time has come becomes ACTIVE;
 * - a campaign whose end time has passed becomes ENDED;
 * - a budget threshold a redemption marked but did not announce (the process
 *   stopped in between) is announced.
 * `platform` sees every tenant's rows (createPrisma scope "platform"); each
 * change then runs as its tenant.
 */
export async function sweepSchedules(prisma: PrismaClient, platform: PrismaClient, cache: BillingCache, logger: Logger): Promise<number> {
  let done = 0;
  const act = async (due: Due[], action: CampaignAction) => {
    for (const { tenantId, id } of due) {
      try {
        await writing(cache, (changes) =>
          withTenant<Tx, void>(prisma, tenantId, async (db) => {
            const campaign = await transitionCampaign(db, tenantId, id, action, changes);
            const event = transitionEvent(action);
            if (event) await recordEvent(db, tenantId, id, event, { campaign: campaignToProto(campaign) });
          }),
        );
        done++;
      } catch (err) {
        // Another instance, or the owner, moved it first.
        if (!(err instanceof DomainError)) throw err;
      }
    }
  };
  await act(
    await platform.$queryRaw<Due[]>`SELECT tenant_id AS "tenantId", id FROM billing.campaigns
      WHERE state IN ('scheduled', 'active', 'paused') AND end_at <= now() LIMIT ${BATCH}`,
    "end",
  );
  await act(
    await platform.$queryRaw<Due[]>`SELECT tenant_id AS "tenantId", id FROM billing.campaigns
      WHERE state = 'scheduled' AND start_at <= now() LIMIT ${BATCH}`,
    "activate",
  );
  const pending = await platform.$queryRaw<Due[]>`SELECT tenant_id AS "tenantId", id FROM billing.campaigns
    WHERE threshold_pending > threshold_notified LIMIT ${BATCH}`;
  for (const { tenantId, id } of pending) {
    if (await withTenant<Tx, boolean>(prisma, tenantId, (db) => announceThresholdIn(db, tenantId, id))) done++;
  }
  if (done > 0) logger.info({ done }, "schedule sweep: campaigns started, ended or announced");
  return done;
}

/** Runs sweepSchedules every `seconds` (0: never), waking the outbox after a sweep that changed something; returns the stop function. */
export function startScheduleSweep(prisma: PrismaClient, platform: PrismaClient, cache: BillingCache, logger: Logger, seconds: number, outbox?: OutboxWake): () => void {
  if (seconds <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepSchedules(prisma, platform, cache, logger)
      .then((done) => done > 0 && outbox?.wake())
      .catch((err: unknown) => logger.warn({ err }, "schedule sweep failed; retried next time"))
      .finally(() => (running = false));
  }, seconds * 1_000);
  timer.unref();
  return () => clearInterval(timer);
}
