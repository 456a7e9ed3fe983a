import { expect } from "chai";
import { seedCatalog, seedTransactions, DEMO_CAMPAIGNS } from "../src/seed.js";
import { startHarness, type Harness } from "./harness.js";

describe("the billing demo seed", function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("billing_seed");
  });
  after(async () => {
    await h?.stop();
  });

  it("makes a campaign in every state, once, and history whose totals and limits agree with its rows", async () => {
    const { tenantId } = h.tenant();
    await seedCatalog(h.appPrisma, tenantId);
    const again = await seedCatalog(h.appPrisma, tenantId);
    expect(again.every((line) => line.endsWith("exists"))).to.equal(true);
    const campaigns = await h.prisma.campaign.findMany({ where: { tenantId } });
    expect(campaigns).to.have.length(DEMO_CAMPAIGNS.length);
    expect(new Set(campaigns.map((c) => c.state))).to.deep.equal(new Set(["draft", "scheduled", "active", "paused", "ended"]));
    expect(await h.prisma.code.count({ where: { tenantId, shared: false } })).to.equal(2_000);

    const progress: number[] = [];
    expect(await seedTransactions(h.appPrisma, tenantId, 3_000, 1_000, (n) => progress.push(n))).to.be.at.least(3_000);
    expect(progress.at(-1)).to.equal(3_000);
    for (const c of campaigns) {
      const rows = await h.prisma.transaction.aggregate({ where: { tenantId, campaignId: c.id }, _count: true, _sum: { discountMinor: true } });
      const now = await h.prisma.campaign.findFirstOrThrow({ where: { tenantId, id: c.id } });
      expect(Number(now.redemptionCount), c.name).to.equal(rows._count);
      expect(Number(now.spentMinor), c.name).to.equal(Number(rows._sum.discountMinor ?? 0));
      if (now.budgetKind === "spend") expect(Number(now.spentMinor), c.name).to.be.at.most(Number(now.budgetLimit));
    }
    const customers = await h.prisma.customerRedemption.aggregate({ where: { tenantId }, _sum: { count: true } });
    expect(Number(customers._sum.count)).to.equal(await h.prisma.transaction.count({ where: { tenantId } }));
    // Topping up to what is there already adds nothing.
    expect(await seedTransactions(h.appPrisma, tenantId, 3_000)).to.equal(await h.prisma.transaction.count({ where: { tenantId } }));
  });
});
