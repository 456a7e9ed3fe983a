import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import type { Plugin } from "graphql-yoga";

export const PERSISTED_QUERY_ONLY = "PERSISTED_QUERY_ONLY";
export const PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND";

/** The allow-list: operation documents by the SHA-256 (hex) of their text. */
export type PersistedOperations = ReadonlyMap<string, string>;

/**
 * Reads a manifest `{ "<sha256 hex of the document>": "<document>" }` (the
 * `persisted-documents.json` of graphql-codegen's client preset). A key that
 * is not its document's hash stops the edge at start, naming the key, so a
 * stale or hand-edited manifest cannot run something other than what it says.
 */
export function loadPersistedOperations(file: string): PersistedOperations {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`PERSISTED_OPERATIONS_FILE ${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`PERSISTED_OPERATIONS_FILE ${file}: expected an object of hash → document`);
  }
  const operations = new Map<string, string>();
  for (const [hash, document] of Object.entries(parsed)) {
    if (typeof document !== "string") throw new Error(`PERSISTED_OPERATIONS_FILE ${file}: the document of ${hash} is not a string`);
    if (createHash("sha256").update(document).digest("hex") !== hash) {
      throw new Error(`PERSISTED_OPERATIONS_FILE ${file}: ${hash} is not the SHA-256 of its document`);
    }
    operations.set(hash, document);
  }
  return operations;
}

const cannotRun = (code: string, message: string) => ({ message, extensions: { code, http: { spec: true, status: 400 } } });

/**
 * Persisted-operations mode: only documents of the allow-list run, named by
 * `extensions.persistedQuery.sha256Hash` (version 1, the APQ request shape);
 * a request with a `query` of its own is refused. The documents still pass
 * the document limits: the list is trusted, the limits are cheap.
 */
export function usePersistedOnly(operations: PersistedOperations): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (hash) => operations.get(hash) ?? null,
    allowArbitraryOperations: false,
    customErrors: {
      persistedQueryOnly: cannotRun(PERSISTED_QUERY_ONLY, "only persisted operations are accepted: send extensions.persistedQuery.sha256Hash, not a query"),
      notFound: cannotRun(PERSISTED_QUERY_NOT_FOUND, "no persisted operation has this sha256Hash"),
      keyNotFound: { message: "a persisted operation needs extensions.persistedQuery { version: 1, sha256Hash }", extensions: { code: "BAD_REQUEST", http: { status: 400 } } },
    },
  });
}
