import { status } from "@grpc/grpc-js";
import { withTenant } from "@apgms/common";
import { CodeKind, type CreateOfferRequest } from "@apgms/proto/apgms/billing/v1/offer";
import { expect } from "chai";
import type { Tx } from "../src/db/client.js";
import { generateCodes } from "../src/db/codes.js";
import { parseCodeCsv } from "../src/domain/code-csv.js";
import { codePattern, DEFAULT_CHARSET } from "../src/domain/codes.js";
import { expectError, startHarness, type Harness } from "./harness.js";

describe("offer codes", function () {
  this.timeout(120_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("billing_codes");
  });
  after(async () => h?.stop());

  type Ctx = ReturnType<Harness["tenant"]>["ctx"];

  async function offer(ctx: Ctx, extra: Partial<CreateOfferRequest> = {}): Promise<string> {
    const { campaign } = await h.campaigns.createCampaign({ name: "C", description: "", currency: "EUR", budget: undefined, startTime: undefined, endTime: undefined }, ctx);
    const { offer: made } = await h.offers.createOffer(
      {
        campaignId: campaign!.id, name: "O", value: { percentOffBps: 500, maxDiscount: undefined }, codeKind: CodeKind.CODE_KIND_UNIQUE, sharedCode: "",
        maxRedemptions: 0, maxPerCustomer: 0, minOrder: undefined, startTime: undefined, endTime: undefined, ...extra,
      },
      ctx,
    );
    return made!.id;
  }

  const codesOf = (tenantId: string, offerId: string) =>
    h.prisma.code.findMany({ where: { tenantId, offerId }, orderBy: { code: "asc" }, select: { code: true } }).then((rows) => rows.map((r) => r.code));
  const generate = (ctx: Ctx, offerId: string, count: number, pattern = "", charset = "") => h.offers.generateCodes({ offerId, count, pattern, charset }, ctx);
  const importCsv = (ctx: Ctx, offerId: string, csv: string) => h.offers.importCodes({ offerId, csv: Buffer.from(csv) }, ctx);

  it("generates 100,000 codes in one call, none repeated, and counts them on the offer", async () => {
    const t = h.tenant();
    const id = await offer(t.ctx);
    const res = await generate(t.ctx, id, 100_000);
    expect(res.generated).to.equal(100_000);
    expect(res.sample).to.have.length(1_000);
    expect(new Set(res.sample).size).to.equal(1_000);
    const charset = `[${DEFAULT_CHARSET}]`;
    for (const code of res.sample) expect(code).to.match(new RegExp(`^${charset}{8}$`));
    const [counts] = await h.prisma.$queryRaw<Array<{ total: bigint; distinct: bigint }>>`
      SELECT count(*) AS total, count(DISTINCT code) AS distinct FROM billing.codes WHERE tenant_id = ${t.tenantId}::uuid AND offer_id = ${id}::uuid`;
    expect(Number(counts!.total)).to.equal(100_000);
    expect(Number(counts!.distinct)).to.equal(100_000);
    const { offer: read } = await h.offers.getOffer({ offerId: id }, t.ctx);
    expect(read).to.include({ codeCount: 100_000, codesAvailable: 100_000 });
    const { offer: byCode, code } = await h.offers.getOfferByCode({ code: res.sample[500]!.toLowerCase() }, t.ctx);
    expect(byCode?.id).to.equal(id);
    expect(code).to.deep.equal({ code: res.sample[500], offerId: id, redeemed: false, transactionId: "", redeemTime: undefined });
  });

  it("fills a pattern's '#' from the charset (upper-cased) and refuses a pattern without 100x room", async () => {
    const t = h.tenant();
    const id = await offer(t.ctx);
    const { sample, generated } = await generate(t.ctx, id, 100, "summer-####-####", "abcd");
    expect(generated).to.equal(100);
    for (const code of sample) expect(code).to.match(/^SUMMER-[ABCD]{4}-[ABCD]{4}$/);
    // 4^8 = 65,536 codes: room for 655 with 100x headroom, of which 100 exist.
    await generate(t.ctx, id, 555, "SUMMER-####-####", "ABCD");
    const err = await expectError(generate(t.ctx, id, 1, "SUMMER-####-####", "ABCD"), status.INVALID_ARGUMENT, "pattern");
    expect(err.details).to.match(/makes 65536 codes; 656 codes need at least 65600/);
    // Codes of another shape do not count against it.
    await generate(t.ctx, id, 10, "WINTER-####-####", "ABCD");
    expect(await h.prisma.code.count({ where: { tenantId: t.tenantId, offerId: id } })).to.equal(665);
  });

  it("refuses a bad count, pattern or charset, and offers that are not UNIQUE", async () => {
    const t = h.tenant();
    const id = await offer(t.ctx);
    await expectError(generate(t.ctx, id, 0), status.INVALID_ARGUMENT, "count");
    await expectError(generate(t.ctx, id, 100_001), status.INVALID_ARGUMENT, "count");
    await expectError(generate(t.ctx, id, 1, "SUMMER"), status.INVALID_ARGUMENT, "pattern");
    await expectError(generate(t.ctx, id, 1, "SUM*##"), status.INVALID_ARGUMENT, "pattern");
    await expectError(generate(t.ctx, id, 1, "#".repeat(65)), status.INVALID_ARGUMENT, "pattern");
    await expectError(generate(t.ctx, id, 1, "", "AaB"), status.INVALID_ARGUMENT, "charset");
    await expectError(generate(t.ctx, id, 1, "", "A"), status.INVALID_ARGUMENT, "charset");
    await expectError(generate(t.ctx, id, 1, "", "AB C"), status.INVALID_ARGUMENT, "charset");
    const none = await offer(t.ctx, { codeKind: CodeKind.CODE_KIND_NONE });
    const err = await expectError(generate(t.ctx, none, 5), status.FAILED_PRECONDITION);
    expect(err.details).to.equal(`offer ${none} is CODE_KIND_NONE: codes are added to CODE_KIND_UNIQUE offers only`);
    await expectError(importCsv(t.ctx, none, "ABCDEF\n"), status.FAILED_PRECONDITION);
    const { offer: o } = await h.offers.getOffer({ offerId: id }, t.ctx);
    await h.campaigns.endCampaign({ campaignId: o!.campaignId }, t.ctx);
    const ended = await expectError(generate(t.ctx, id, 5), status.FAILED_PRECONDITION);
    expect(ended.details).to.equal(`campaign ${o!.campaignId} is ENDED: cannot add codes to its offers`);
    await expectError(importCsv(t.ctx, id, "ABCDEF\n"), status.FAILED_PRECONDITION);
    expect(await h.prisma.code.count({ where: { tenantId: t.tenantId } })).to.equal(0);
  });

  it("makes again the codes that collided with the tenant's, until all are made", async () => {
    const t = h.tenant();
    const id = await offer(t.ctx);
    await importCsv(t.ctx, id, "XAA\n");
    // "XA#" over "AB" makes XAA (taken) or XAB: asked for one code, it must come back XAB, however many rounds collide.
    const made = await withTenant<Tx, string[]>(h.appPrisma, t.tenantId, (db) => generateCodes(db, t.tenantId, id, codePattern("p", "XA#", "c", "AB"), 1));
    expect(made).to.deep.equal(["XAB"]);
    expect(await codesOf(t.tenantId, id)).to.deep.equal(["XAA", "XAB"]);
  });

  it("a shared code may not be any code of the tenant, and an import may not hold a shared code", async () => {
    const t = h.tenant();
    const unique = await offer(t.ctx);
    const { sample } = await generate(t.ctx, unique, 20);
    const err = await expectError(offer(t.ctx, { codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: sample[3]!.toLowerCase() }), status.ALREADY_EXISTS, "shared_code");
    expect(err.details).to.include(sample[3]);
    await offer(t.ctx, { codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: "FRIENDS" });
    const imported = await expectError(importCsv(t.ctx, unique, "NEW-1\nfriends\nNEW-2\n"), status.ALREADY_EXISTS, "csv");
    expect(imported.details).to.equal("csv: 1 codes are already codes of this tenant: line 2: FRIENDS");
    expect(await h.prisma.code.count({ where: { tenantId: t.tenantId } })).to.equal(21);
    expect(await h.prisma.offer.count({ where: { tenantId: t.tenantId } })).to.equal(2);
  });

  it("imports a CSV with a code column (quoted fields, CRLF, blank lines), trimmed and upper-cased", async () => {
    const t = h.tenant();
    const id = await offer(t.ctx);
    const csv = '\uFEFFname,Code,note\r\n"Ann, A.", spring-01 ,x\r\n\r\nBob,"SPRING-02",\r\n"Cy ""C""",Spring-03,"a, b"\r\n';
    const { imported } = await importCsv(t.ctx, id, csv);
    expect(imported).to.equal(3);
    expect(await codesOf(t.tenantId, id)).to.deep.equal(["SPRING-01", "SPRING-02", "SPRING-03"]);
    expect((await h.offers.getOffer({ offerId: id }, t.ctx)).offer).to.include({ codeCount: 3, codesAvailable: 3 });
    expect((await importCsv(t.ctx, id, "summer-1\nsummer-2")).imported).to.equal(2);
  });

  it("refuses a whole file with repeated, existing or malformed codes, naming the lines, and inserts none of it", async () => {
    const t = h.tenant();
    const id = await offer(t.ctx);
    await importCsv(t.ctx, id, "OLD-1\nOLD-2\n");
    const repeated = await expectError(importCsv(t.ctx, id, "A-100\nB-200\na-100\nC-300\nb-200\n"), status.INVALID_ARGUMENT, "csv");
    expect(repeated.details).to.equal("csv: a code may appear once: line 3 repeats A-100 of line 1; line 5 repeats B-200 of line 2");
    const existing = await expectError(importCsv(t.ctx, id, "A-100\nold-2\nB-200\nOLD-1\n"), status.ALREADY_EXISTS, "csv");
    expect(existing.details).to.equal("csv: 2 codes are already codes of this tenant: line 2: OLD-2; line 4: OLD-1");
    const malformed = await expectError(importCsv(t.ctx, id, "A-100\nno spaces\nAB\nB-200\n"), status.INVALID_ARGUMENT, "csv");
    expect(malformed.details).to.match(/line 2: "no spaces"; line 3: "AB"$/);
    await expectError(importCsv(t.ctx, id, "A-100,x\nB-200,y\n"), status.INVALID_ARGUMENT, "csv");
    await expectError(importCsv(t.ctx, id, "code\n\n"), status.INVALID_ARGUMENT, "csv");
    await expectError(importCsv(t.ctx, id, ""), status.INVALID_ARGUMENT, "csv");
    const many = Array.from({ length: 100_001 }, (_, i) => `C${i}`).join("\n");
    await expectError(importCsv(t.ctx, id, many), status.INVALID_ARGUMENT, "csv");
    expect(await codesOf(t.tenantId, id)).to.deep.equal(["OLD-1", "OLD-2"]);
    expect((await h.offers.getOffer({ offerId: id }, t.ctx)).offer?.codeCount).to.equal(2);
  });

  it("names at most five lines of a refused file, and how many more", () => {
    const csv = Buffer.from(Array.from({ length: 9 }, () => "x").join("\n"));
    expect(() => parseCodeCsv("csv", csv)).to.throw(/line 5: "x"; and 4 more$/);
  });

  it("lists an offer's codes in code order, page by page, all, unused or redeemed", async () => {
    const t = h.tenant();
    const id = await offer(t.ctx);
    await importCsv(t.ctx, id, ["G-7", "A-1", "F-6", "B-2", "E-5", "C-3", "D-4"].join("\n"));
    const txId = "5f0b9f6e-3c1a-4b7e-9d2a-1c2b3d4e5f60";
    const redeemedAt = new Date("2026-01-02T03:04:05.678Z");
    await h.prisma.code.updateMany({ where: { tenantId: t.tenantId, code: { in: ["B-2", "F-6"] } }, data: { redeemedAt, transactionId: txId } });

    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const res = await h.offers.listCodes({ offerId: id, page: { pageSize: 3, pageToken }, redeemed: undefined }, t.ctx);
      seen.push(...res.codes.map((c) => c.code));
      pageToken = res.page?.nextPageToken ?? "";
      pages++;
    } while (pageToken);
    expect(pages).to.equal(3);
    expect(seen).to.deep.equal(["A-1", "B-2", "C-3", "D-4", "E-5", "F-6", "G-7"]);

    const redeemed = await h.offers.listCodes({ offerId: id, page: undefined, redeemed: true }, t.ctx);
    expect(redeemed.codes).to.deep.equal([
      { code: "B-2", offerId: id, redeemed: true, transactionId: txId, redeemTime: redeemedAt },
      { code: "F-6", offerId: id, redeemed: true, transactionId: txId, redeemTime: redeemedAt },
    ]);
    const unused = await h.offers.listCodes({ offerId: id, page: { pageSize: 4, pageToken: "" }, redeemed: false }, t.ctx);
    expect(unused.codes.map((c) => c.code)).to.deep.equal(["A-1", "C-3", "D-4", "E-5"]);
    const rest = await h.offers.listCodes({ offerId: id, page: { pageSize: 4, pageToken: unused.page!.nextPageToken }, redeemed: false }, t.ctx);
    expect(rest.codes.map((c) => c.code)).to.deep.equal(["G-7"]);
    await expectError(h.offers.listCodes({ offerId: id, page: { pageSize: 4, pageToken: unused.page!.nextPageToken }, redeemed: true }, t.ctx), status.INVALID_ARGUMENT, "page.page_token");
    await expectError(h.offers.listCodes({ offerId: id, page: { pageSize: 4, pageToken: "forged" }, redeemed: undefined }, t.ctx), status.INVALID_ARGUMENT, "page.page_token");

    const { code } = await h.offers.getOfferByCode({ code: "f-6" }, t.ctx);
    expect(code).to.include({ code: "F-6", redeemed: true, transactionId: txId });
  });
});
