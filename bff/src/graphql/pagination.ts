import type { PageInfo, PageRequest } from "@apgms/proto/apgms/common/v1/pagination";

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export const pageRequest = ({ first, after }: PageArgs): PageRequest => ({ pageSize: first ?? 0, pageToken: after ?? "" });

export const connection = <T>(nodes: T[], page: PageInfo | undefined) => ({
  nodes,
  pageInfo: { endCursor: page?.nextPageToken || null, hasNextPage: Boolean(page?.nextPageToken) },
});

/** The page info every connection of every domain returns. */
export const pageInfoTypeDefs = /* GraphQL */ `
  type PageInfo {
    "Pass as \`after\` to get the next page; null on the last page."
    endCursor: String
    hasNextPage: Boolean!
  }
`;
