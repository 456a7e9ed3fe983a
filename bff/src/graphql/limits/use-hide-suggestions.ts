import type { Plugin } from "graphql-yoga";
import { blockFieldSuggestionsDefaultOptions } from "@escape.tech/graphql-armor-block-field-suggestions";

const SUGGESTION = /Did you mean .+\?/g;

/**
 * Armor's block-field-suggestions masks validation errors only; variables
 * that do not coerce are reported by execution, and an input field typo there
 * still names the real field ("Field "rol" is not defined by type
 * "UpdateUserInput". Did you mean "role"?"). Masked the same way.
 */
export function useHideVariableSuggestions(): Plugin {
  const mask = blockFieldSuggestionsDefaultOptions.mask;
  return {
    onExecute() {
      return {
        onExecuteDone({ result }) {
          if (!("errors" in result) || !result.errors?.length) return;
          for (const error of result.errors) {
            const hidden = error.message.replace(SUGGESTION, mask);
            // In place, as armor does for validation errors (a GraphQLError's message is writable).
            if (hidden !== error.message) (error as { message: string }).message = hidden;
          }
        },
      };
    },
  };
}
