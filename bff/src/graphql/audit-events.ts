import { AuditOutcome, type AuditEvent } from "@apgms/proto/apgms/identity/v1/audit";
import type { GraphQLContext } from "./context.js";
import { badInput } from "./errors.js";
import { requireAction } from "./permissions.js";
import { connection, pageRequest, type PageArgs } from "./pagination.js";

/** The audit trail in the GraphQL contract (merged into the edge's schema). */
export const auditTypeDefs = /* GraphQL */ `
  enum AuditOutcome {
    OK
    "Refused by a permission, rule or input check."
    REFUSED
    "Failed on the server side."
    FAILED
  }

  type AuditDetail {
    key: String!
    value: String!
  }

  "One audited action: a mutation (action = its field name) or a security event (auth.signIn, auth.failed, rateLimit.hit)."
  type AuditEvent {
    id: ID!
    occurredAt: DateTime!
    "user:<id>, apiKey:<id>, identity:<issuer>#<subject, emails masked>, client:<masked network>."
    principal: String!
    action: String!
    targetIds: [String!]!
    outcome: AuditOutcome!
    "The error codes the client got, when refused or failed."
    errorCodes: [String!]!
    requestId: String!
    "W3C trace id; empty when the request was not traced."
    traceId: String!
    source: String!
    "Redacted extra facts (arguments other than ids; secrets and names never appear, emails masked)."
    details: [AuditDetail!]!
  }

  type AuditEventConnection {
    nodes: [AuditEvent!]!
    pageInfo: PageInfo!
  }

  extend type Query {
    "Owners and admins: the tenant's audit trail, newest first. Filters combine; occurredAt in [from, to)."
    auditEvents(first: Int, after: String, action: String, principal: String, from: DateTime, to: DateTime): AuditEventConnection!
  }
`;

const OUTCOME: Partial<Record<AuditOutcome, string>> = {
  [AuditOutcome.AUDIT_OUTCOME_OK]: "OK",
  [AuditOutcome.AUDIT_OUTCOME_REFUSED]: "REFUSED",
  [AuditOutcome.AUDIT_OUTCOME_FAILED]: "FAILED",
};

type AuditArgs = PageArgs & { action?: string | null; principal?: string | null; from?: Date | null; to?: Date | null };

export const auditResolvers = {
  Query: {
    auditEvents: async (_: unknown, args: AuditArgs, ctx: GraphQLContext) => {
      requireAction(ctx.principal, "audit:read");
      if (args.from && args.to && args.from >= args.to) throw badInput("to", "must be after from");
      const res = await ctx.identity.audit.listAuditEvents({
        page: pageRequest(args),
        action: args.action ?? "",
        principal: args.principal ?? "",
        fromTime: args.from ?? undefined,
        toTime: args.to ?? undefined,
      });
      return connection(res.events, res.page);
    },
  },
  AuditEvent: {
    occurredAt: (e: AuditEvent) => e.occurTime,
    outcome: (e: AuditEvent) => OUTCOME[e.outcome] ?? "FAILED",
    details: (e: AuditEvent) => Object.entries(e.details).map(([key, value]) => ({ key, value })),
  },
};
