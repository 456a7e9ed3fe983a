import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { GraphQLError, type ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { RequestLimits } from "./defaults.js";
import { useHideVariableSuggestions } from "./use-hide-suggestions.js";

/** The `extensions.code` of each refusal (armor's own errors carry none). */
export const LimitCodes = {
  tokens: "TOO_MANY_TOKENS",
  depth: "QUERY_TOO_DEEP",
  aliases: "TOO_MANY_ALIASES",
  directives: "TOO_MANY_DIRECTIVES",
  cost: "QUERY_TOO_COSTLY",
} as const;

/**
 * Armor's rejection handler, turned into a coded error and thrown: from the
 * parser (tokens) or from the first visit of the operation (the others), so a
 * refused document costs no further parsing or validation. Yoga answers it
 * like any document that cannot run: 200 under application/json, 400 under
 * application/graphql-response+json.
 */
function refuse(code: string) {
  return (_context: ValidationContext | null, error: GraphQLError): never => {
    throw new GraphQLError(error.message.replace(/^Syntax Error: /, ""), { extensions: { code, http: { spec: true, status: 400 } } });
  };
}

const coded = (code: string) => ({ onReject: [refuse(code)], propagateOnRejection: false, exposeLimits: true });

/**
 * GraphQL Armor's document limits, one plugin each, configured rather than
 * rewritten. Depth is checked before cost so a deep document is refused as
 * too deep (it is usually too costly as well). Field suggestions ("Did you
 * mean …") are hidden outside development, where they would map the schema.
 */
export function armorPlugins(limits: RequestLimits, development: boolean): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.maxTokens, ...coded(LimitCodes.tokens) }),
    maxDepthPlugin({ n: limits.maxDepth, ...coded(LimitCodes.depth) }),
    maxAliasesPlugin({ n: limits.maxAliases, allowList: [], ...coded(LimitCodes.aliases) }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...coded(LimitCodes.directives) }),
    costLimitPlugin({ maxCost: limits.maxCost, ...coded(LimitCodes.cost) }),
  ];
  if (!development) plugins.push(blockFieldSuggestionsPlugin(), useHideVariableSuggestions());
  return plugins;
}
