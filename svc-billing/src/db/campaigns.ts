// Campaigns: hot reads (one statement through TenantReader, cached by the handlers), the
// list, and the writes, each in the call's transaction. Every transition and update takes
// the campaign's row lock first (SELECT … FOR UPDATE), so two racing calls are applied one
// after the other and the second sees the first's result.
import { randomUUID } from "node:crypto";
import { FailedPreconditionError, NotFoundError, slicePage, type Page } from "@apgms/common";
import type { BillingChanges } from "../cache.js";
import { assertEditable, nextState, stateName, TRANSITIONS, type CampaignAction } from "../domain/lifecycle.js";
import { CAMPAIGN_TIMES, type CampaignRow, type CampaignState } from "../domain/model.js";
import { changedWindow, windowEnd, type BudgetInput } from "../domain/validate.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { Tx } from "./client.js";
import { campaignRow } from "./rows.js";
import { dates, ms, num, txQuery, type Raw, type TenantQuery } from "./sql.js";

const CAMPAIGN = `c.tenant_id AS "tenantId", c.id, c.name, c.description, c.state::text AS state, c.currency,
  c.budget_kind::text AS "budgetKind", ${num("c.budget_limit", "budgetLimit")}, ${num("c.spent_minor", "spentMinor")},
  ${num("c.refunded_minor", "refundedMinor")}, ${num("c.redemption_count", "redemptionCount")}, c.threshold_notified AS "thresholdNotified",
  ${ms("c.start_at", "startAt")}, ${ms("c.end_at", "endAt")}, ${ms("c.created_at", "createdAt")}, ${ms("c.updated_at", "updatedAt")}`;

type RawCampaign = Raw<CampaignRow, (typeof CAMPAIGN_TIMES)[number]>;
const asCampaign = (row: RawCampaign): CampaignRow => dates<CampaignRow, (typeof CAMPAIGN_TIMES)[number]>(row, CAMPAIGN_TIMES);

// Each statement names its tenant though row-level security already limits it: the
// (tenant_id, …) indexes serve it, and a reader misused as another tenant finds nothing.

export async function readCampaign(q: TenantQuery, tenantId: string, id: string): Promise<CampaignRow | null> {
  const rows = await q<RawCampaign>(`SELECT ${CAMPAIGN} FROM billing.campaigns c WHERE c.tenant_id = $1 AND c.id = $2`, [tenantId, id]);
  return rows[0] ? asCampaign(rows[0]) : null;
}

export async function readCampaigns(q: TenantQuery, tenantId: string, ids: readonly string[]): Promise<Map<string, CampaignRow>> {
  const rows = await q<RawCampaign>(`SELECT ${CAMPAIGN} FROM billing.campaigns c WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[])`, [tenantId, ids]);
  return new Map(rows.map((r) => [r.id, asCampaign(r)]));
}

export interface CampaignFilter {
  /** Any of these; empty: all. */
  states: readonly CampaignState[];
  /** A case-insensitive substring of the name. */
  nameContains?: string;
}

/** A page of the tenant's campaigns, newest first (the (tenant_id, created_at DESC, id DESC) index). */
export async function campaignPage(q: TenantQuery, tenantId: string, page: Page, filter: CampaignFilter) {
  const values: unknown[] = [tenantId];
  let where = "c.tenant_id = $1";
  if (filter.states.length > 0) {
    values.push(filter.states);
    where += ` AND c.state = ANY($${values.length}::billing."CampaignState"[])`;
  }
  if (filter.nameContains) {
    values.push(filter.nameContains.toLowerCase());
    where += ` AND strpos(lower(c.name), $${values.length}) > 0`;
  }
  if (page.after) {
    values.push(page.after.createdAt, page.after.id);
    where += ` AND (c.created_at, c.id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`;
  }
  values.push(page.size + 1);
  const rows = await q<RawCampaign>(`SELECT ${CAMPAIGN} FROM billing.campaigns c WHERE ${where} ORDER BY c.created_at DESC, c.id DESC LIMIT $${values.length}`, values);
  const { items, nextPageToken } = slicePage(rows.map(asCampaign), page.size);
  return { campaigns: items, nextPageToken };
}

export interface NewCampaign {
  name: string;
  description: string;
  currency: string;
  budget?: BudgetInput;
  startAt?: Date;
  endAt?: Date;
}

export async function createCampaign(db: Tx, tenantId: string, input: NewCampaign): Promise<CampaignRow> {
  const created = await db.campaign.create({
    data: {
      tenantId,
      id: randomUUID(),
      name: input.name,
      description: input.description,
      currency: input.currency,
      budgetKind: input.budget?.kind ?? "none",
      budgetLimit: input.budget ? BigInt(input.budget.limit) : null,
      startAt: input.startAt ?? null,
      endAt: input.endAt ?? null,
    },
  });
  return campaignRow(created);
}

/**
 * The campaign, locked until the transaction ends: "update" for a change of the row, "share"
 * to keep its state while something is added under it (an offer). NOT_FOUND in another tenant.
 */
export async function lockCampaign(db: Tx, tenantId: string, id: string, mode: "update" | "share"): Promise<CampaignRow> {
  const lock = mode === "update" ? "FOR UPDATE" : "FOR SHARE";
  const rows = await txQuery<RawCampaign>(db, `SELECT ${CAMPAIGN} FROM billing.campaigns c WHERE c.tenant_id = $1::uuid AND c.id = $2::uuid ${lock}`, tenantId, id);
  if (!rows[0]) throw new NotFoundError("campaign", id);
  return asCampaign(rows[0]);
}

function update(db: Tx, tenantId: string, id: string, data: Prisma.CampaignUpdateInput): Promise<CampaignRow> {
  return db.campaign.update({ where: { tenantId_id: { tenantId, id } }, data }).then(campaignRow);
}

export interface Schedule {
  startAt: Date;
  /** Replaces the end time when given. */
  endAt?: Date;
}

/**
 * Moves the campaign along its lifecycle (lifecycle.ts), or refuses naming its state.
 * Activating brings a future start time forward to now; ending sets the end time to now
 * unless it has already passed; scheduling sets the start (and end) time.
 */
export async function transitionCampaign(
  db: Tx,
  tenantId: string,
  id: string,
  action: CampaignAction,
  changes: BillingChanges,
  schedule?: Schedule,
): Promise<CampaignRow> {
  const row = await lockCampaign(db, tenantId, id, "update");
  const state = nextState(id, row.state, action);
  const now = new Date();
  const data: Prisma.CampaignUpdateInput = { state };
  if (action === "schedule") {
    if (!schedule) throw new Error("transitionCampaign: scheduling needs a start time");
    windowEnd("end_time", schedule.startAt, schedule.endAt ?? row.endAt);
    data.startAt = schedule.startAt;
    if (schedule.endAt) data.endAt = schedule.endAt;
  } else if (action === "activate") {
    if (row.endAt && row.endAt.getTime() <= now.getTime()) {
      throw new FailedPreconditionError(`campaign ${id} is ${stateName(row.state)} and its end time ${row.endAt.toISOString()} has passed: cannot activate it (set a later end time first)`);
    }
    if (row.startAt && row.startAt.getTime() > now.getTime()) data.startAt = now;
  } else if (action === "end") {
    if (!row.endAt || row.endAt.getTime() > now.getTime()) data.endAt = now;
  }
  changes.campaign(tenantId, id);
  return update(db, tenantId, id, data);
}

/** The outbox event a transition announces (none for unscheduling). */
export const transitionEvent = (action: CampaignAction) => TRANSITIONS[action].event;

export interface CampaignPatch {
  name?: string;
  description?: string;
  currency?: string;
  /** null: remove the budget. */
  budget?: BudgetInput | null;
  startAt?: Date;
  /** null: remove the end time. */
  endAt?: Date | null;
}

/** UpdateCampaign's rules (campaign.proto) under the row lock; an empty patch changes nothing. */
export async function updateCampaign(db: Tx, tenantId: string, id: string, patch: CampaignPatch, changes: BillingChanges): Promise<CampaignRow> {
  const row = await lockCampaign(db, tenantId, id, "update");
  const data: Prisma.CampaignUpdateInput = {};
  if (patch.name !== undefined && patch.name !== row.name) {
    assertEditable(id, row.state, "name");
    data.name = patch.name;
  }
  if (patch.description !== undefined && patch.description !== row.description) {
    assertEditable(id, row.state, "description");
    data.description = patch.description;
  }
  if (patch.currency !== undefined && patch.currency !== row.currency) {
    assertEditable(id, row.state, "currency");
    await assertNoPricedOffers(db, tenantId, row);
    data.currency = patch.currency;
  }
  if (patch.budget !== undefined) applyBudget(row, patch.budget, data);
  if (patch.startAt !== undefined && patch.startAt.getTime() !== row.startAt?.getTime()) {
    assertEditable(id, row.state, "start_time");
    data.startAt = patch.startAt;
  }
  if (patch.endAt !== undefined && patch.endAt?.getTime() !== row.endAt?.getTime()) {
    assertEditable(id, row.state, "end_time");
    data.endAt = patch.endAt;
  }
  if (data.startAt !== undefined || data.endAt !== undefined) {
    const start = data.startAt !== undefined ? (data.startAt as Date) : row.startAt;
    const end = data.endAt !== undefined ? (data.endAt as Date | null) : row.endAt;
    changedWindow(start, end, data.endAt !== undefined);
  }
  if (Object.keys(data).length === 0) return row;
  changes.campaign(tenantId, id);
  return update(db, tenantId, id, data);
}

function applyBudget(row: CampaignRow, budget: BudgetInput | null, data: Prisma.CampaignUpdateInput): void {
  if (budget === null) {
    if (row.budgetKind === "none") return;
    assertEditable(row.id, row.state, "budget_kind");
    data.budgetKind = "none";
    data.budgetLimit = null;
    return;
  }
  if (budget.kind === row.budgetKind && budget.limit === row.budgetLimit) return;
  assertEditable(row.id, row.state, budget.kind === row.budgetKind ? "budget" : "budget_kind");
  if (budget.kind === "spend" && budget.limit < row.spentMinor) {
    throw new FailedPreconditionError(`budget.spend_minor: ${budget.limit} is less than the ${row.spentMinor} already given by campaign ${row.id}`);
  }
  if (budget.kind === "redemptions" && budget.limit < row.redemptionCount) {
    throw new FailedPreconditionError(`budget.redemptions: ${budget.limit} is less than the ${row.redemptionCount} redemptions campaign ${row.id} already has`);
  }
  data.budgetKind = budget.kind;
  data.budgetLimit = BigInt(budget.limit);
}

/** An offer's amounts are in its campaign's currency: with any, the currency may no longer change. */
async function assertNoPricedOffers(db: Tx, tenantId: string, row: CampaignRow): Promise<void> {
  const priced = await db.offer.count({
    where: { tenantId, campaignId: row.id, OR: [{ amountOffMinor: { not: null } }, { maxDiscountMinor: { not: null } }, { minOrderMinor: { not: null } }] },
  });
  if (priced > 0) throw new FailedPreconditionError(`campaign ${row.id} has ${priced} offers with amounts in ${row.currency}: cannot change its currency`);
}
