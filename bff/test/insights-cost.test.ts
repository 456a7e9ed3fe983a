import { expect } from "chai";
import { buildSchema, parse } from "graphql";
import { insightsWeights } from "../src/graphql/insights/cost.js";
import { typeDefs } from "../src/graphql/yoga.js";
import { operationCost } from "../src/limits/operation-cost.js";

const RANGE = 'from: "2026-10-01T00:00:00Z", to: "2026-10-02T00:00:00Z"';

/** What insights' operations weigh for the rate limit (operation-cost.ts with insights' field weights). */
describe("insights operation cost", () => {
  const schema = buildSchema(typeDefs);
  const cost = (query: string, variables?: Record<string, unknown>) => operationCost(schema, parse(query), undefined, variables, { weights: insightsWeights });

  it("charges each analytics query as a statement (20 points; a funnel's raw scan 50), beyond its fields", () => {
    expect(cost(`{ timeSeries(eventName: "v", granularity: DAY, ${RANGE}) { source } }`)).to.equal(2 + 20);
    expect(cost(`{ breakdown(attribute: "channel", ${RANGE}) { rows { count } } }`)).to.equal(3 + 20);
    expect(cost(`{ funnel(steps: ["a", "b"], ${RANGE}) { source } }`)).to.equal(2 + 50);
    expect(cost(`{ retention(startEvent: "a", returnEvent: "b", period: DAY, ${RANGE}) { source } }`)).to.equal(2 + 20);
  });

  it("charges a split time series per series, literal or variable (default 5)", () => {
    expect(cost(`{ timeSeries(eventName: "v", granularity: DAY, ${RANGE}, splitBy: "campaign") { source } }`)).to.equal(2 + 100);
    expect(cost(`query($l: Int) { timeSeries(eventName: "v", granularity: DAY, ${RANGE}, splitBy: "campaign", splitLimit: $l) { source } }`, { l: 20 })).to.equal(2 + 400);
  });

  it("counts a page of events like every page, and ingestEvents for its largest call (100 events, 1 point per 10)", () => {
    expect(cost("{ events(first: 100) { nodes { id attributes } } }")).to.equal(1 + 100 + 200);
    expect(cost('mutation { ingestEvents(events: []) { accepted } }')).to.equal(2 + 10);
    expect(cost("mutation { setInsightsDimensions(keys: []) { keys } }")).to.equal(2 + 1_000);
  });
});
