// Campaigns, offers and codes written straight to the database (as the
// tables' owner), for tests of redemption that should not depend on the
// catalog RPCs' own rules.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../src/generated/prisma/client.js";

export interface CampaignFixture {
  state?: "draft" | "scheduled" | "active" | "paused" | "ended";
  currency?: string;
  budget?: { kind: "spend" | "redemptions"; limit: number };
  startAt?: Date;
  endAt?: Date;
}

export interface OfferFixture {
  percentBps?: number;
  amountOffMinor?: number;
  maxDiscountMinor?: number;
  codeKind?: "none" | "shared" | "unique";
  sharedCode?: string;
  uniqueCodes?: string[];
  maxRedemptions?: number;
  maxPerCustomer?: number;
  minOrderMinor?: number;
  startAt?: Date;
  endAt?: Date;
  enabled?: boolean;
}

export async function makeCampaign(prisma: PrismaClient, tenantId: string, f: CampaignFixture = {}): Promise<string> {
  const id = randomUUID();
  await prisma.campaign.create({
    data: {
      tenantId,
      id,
      name: `Campaign ${id.slice(0, 8)}`,
      state: f.state ?? "active",
      currency: f.currency ?? "EUR",
      budgetKind: f.budget?.kind ?? "none",
      budgetLimit: f.budget ? BigInt(f.budget.limit) : null,
      startAt: f.startAt ?? null,
      endAt: f.endAt ?? null,
    },
  });
  return id;
}

export async function makeOffer(prisma: PrismaClient, tenantId: string, campaignId: string, f: OfferFixture = {}): Promise<string> {
  const id = randomUUID();
  const percent = f.amountOffMinor === undefined;
  await prisma.offer.create({
    data: {
      tenantId,
      id,
      campaignId,
      name: `Offer ${id.slice(0, 8)}`,
      valueKind: percent ? "percent" : "amount",
      percentBps: percent ? (f.percentBps ?? 1_000) : null,
      amountOffMinor: percent ? null : BigInt(f.amountOffMinor!),
      maxDiscountMinor: f.maxDiscountMinor === undefined ? null : BigInt(f.maxDiscountMinor),
      codeKind: f.codeKind ?? (f.sharedCode ? "shared" : f.uniqueCodes ? "unique" : "none"),
      maxRedemptions: BigInt(f.maxRedemptions ?? 0),
      maxPerCustomer: BigInt(f.maxPerCustomer ?? 0),
      minOrderMinor: f.minOrderMinor === undefined ? null : BigInt(f.minOrderMinor),
      startAt: f.startAt ?? null,
      endAt: f.endAt ?? null,
      enabled: f.enabled ?? true,
      codeCount: BigInt(f.uniqueCodes?.length ?? 0),
    },
  });
  if (f.sharedCode) await prisma.code.create({ data: { tenantId, code: f.sharedCode, offerId: id, shared: true } });
  if (f.uniqueCodes?.length) await prisma.code.createMany({ data: f.uniqueCodes.map((code) => ({ tenantId, code, offerId: id })) });
  return id;
}
