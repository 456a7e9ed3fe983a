/** The edge's GraphQL and HTTP request bounds (docs/security.md#graphql-limits). */
export interface RequestLimits {
  /** Deepest field nesting in a document, leaf fields included (`{ me { kind } }` is 2). */
  maxDepth: number;
  /** Aliases in a document. */
  maxAliases: number;
  /** Directives in a document. */
  maxDirectives: number;
  /** Lexical tokens in a document; counted while parsing, so a huge document stops early. */
  maxTokens: number;
  /** GraphQL Armor's cost: objects 2, scalars 1, x1.5 per level, times a literal `first`. */
  maxCost: number;
  /** Objects and fields one operation may return, counted with its variables (page sizes). */
  maxNodes: number;
  /** Operations in one batched request; 0 turns batching off. */
  maxBatch: number;
  /** Request body, in bytes. */
  maxBodyBytes: number;
  /** Deadline of a whole request, inherited by every gRPC call it makes. */
  timeoutMs: number;
  /**
   * The document limits above (depth, aliases, directives, tokens, cost). Off
   * only to measure what they cost (`make bench`); never in production.
   */
  documentLimits: boolean;
}

/**
 * Depth 7 admits every nesting the UI needs (a page of accounts with their
 * users and each user's account) but never a third nested list (that takes
 * depth 8: list, nodes, list, nodes, account, list, nodes, field), so a
 * response holds at most 200 x 200 rows; the 30-level accounts → users →
 * account query fanned out exponentially before it. Cost 10,000 passes a full
 * page (`first: 200`) of a flat list with its nested objects (about 5,700) and
 * refuses two nested pages asked for by literal `first` (armor cannot see
 * variables or the default of 50; depth bounds those). 5,000 tokens lets a
 * 1,000-alias document reach the alias limit (and get its own code) while
 * parsing stays well under a millisecond.
 */
export const REQUEST_LIMIT_DEFAULTS: Readonly<RequestLimits> = {
  maxDepth: 7,
  maxAliases: 15,
  maxDirectives: 10,
  maxTokens: 5_000,
  maxCost: 10_000,
  maxNodes: 10_000,
  maxBatch: 0,
  maxBodyBytes: 1_048_576,
  timeoutMs: 10_000,
  documentLimits: true,
};
