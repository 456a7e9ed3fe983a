import type { FieldWeights } from "../../limits/operation-cost.js";

/** Codes written per rate-limit point: listing ten rows costs about ten points, writing ten codes one more. */
const CODES_PER_POINT = 10;

const lines = (csv: unknown) => (typeof csv === "string" ? csv.split("\n").length : 0);

/**
 * Billing's fields whose work grows with an argument, for the rate limit:
 * generating or importing 100,000 codes costs 10,000 points (the standard
 * plan's 60,000 a minute allow six such calls), not the 3 its selection is.
 */
export const billingWeights: FieldWeights = {
  "Mutation.generateCodes": ({ count }) => (typeof count === "number" ? Math.ceil(count / CODES_PER_POINT) : 0),
  "Mutation.importCodes": ({ codesCsv }) => Math.ceil(lines(codesCsv) / CODES_PER_POINT),
};
