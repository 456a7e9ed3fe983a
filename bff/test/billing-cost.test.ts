import { expect } from "chai";
import { buildSchema, parse } from "graphql";
import { billingWeights } from "../src/graphql/billing/cost.js";
import { typeDefs } from "../src/graphql/yoga.js";
import { operationCost } from "../src/limits/operation-cost.js";

/** What billing's operations weigh for the rate limit (operation-cost.ts with billing's field weights). */
describe("billing operation cost", () => {
  const schema = buildSchema(typeDefs);
  const cost = (query: string, variables?: Record<string, unknown>) => operationCost(schema, parse(query), undefined, variables, { weights: billingWeights });

  it("counts billing pages like every page: per field, times the items of each", () => {
    expect(cost("{ transactions(first: 50) { nodes { id campaign { name } offer { name } } } }")).to.equal(1 + 50 + 50 * 5);
    expect(cost("{ campaigns { nodes { totals { redemptions } } } }")).to.equal(1 + 50 + 100);
  });

  it("charges code generation and import by the codes written, literal or variable", () => {
    expect(cost("mutation { generateCodes(offerId: \"o\", count: 100000) { generated } }")).to.equal(2 + 10_000);
    expect(cost("mutation($n: Int!) { generateCodes(offerId: \"o\", count: $n) { generated } }", { n: 25 })).to.equal(2 + 3);
    const csv = Array.from({ length: 1_000 }, (_, i) => `CODE-${i}`).join("\n");
    expect(cost("mutation($c: String!) { importCodes(offerId: \"o\", codesCsv: $c) { imported } }", { c: csv })).to.equal(2 + 100);
  });

  it("leaves the weights out of the node limit's count (what a response may hold)", () => {
    expect(operationCost(schema, parse("mutation { generateCodes(offerId: \"o\", count: 100000) { generated } }"))).to.equal(2);
  });
});
