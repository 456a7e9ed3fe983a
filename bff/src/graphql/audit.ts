import { graphqlCodeFor, isServiceError } from "@apgms/common/errors";
import { principalToString } from "@apgms/common/context";
import type { Outcome } from "@apgms/common/audit/trail";
import {
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLResolveInfo,
} from "graphql";
import type { EdgeAudit } from "../audit/edge-audit.js";
import type { GraphQLContext } from "./context.js";

/** The code a client will see (recorded before errors are masked). */
export function errorCode(error: unknown): string {
  if (error instanceof GraphQLError) {
    if (typeof error.extensions?.code === "string") return error.extensions.code;
    if (isServiceError(error.originalError)) return graphqlCodeFor(error.originalError.code);
  }
  if (isServiceError(error)) return graphqlCodeFor(error.code);
  return "INTERNAL_SERVER_ERROR";
}

const SERVER_SIDE = new Set(["INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "DEADLINE_EXCEEDED"]);
export const outcomeOf = (code: string): Outcome => (SERVER_SIDE.has(code) ? "failed" : "refused");

type Scalar = string | number | boolean;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
const isIdKey = (key: string) => key === "id" || key.endsWith("Id");

function scalar(v: unknown): Scalar | undefined {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number")) return v.join(",");
  return undefined;
}

/** An argument as the client wrote it: enum values by name (resolvers see their internal values). */
function external(type: GraphQLInputType, value: unknown): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (value == null) return value;
  if (isListType(inner)) return Array.isArray(value) ? value.map((v) => external(inner.ofType, v)) : value;
  if (isEnumType(inner)) return inner.serialize(value);
  if (isInputObjectType(inner) && isRecord(value)) {
    const fields = inner.getFields();
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fields[k] ? external(fields[k].type, v) : v]));
  }
  return value;
}

function externalArgs(info: GraphQLResolveInfo, args: Record<string, unknown>): Record<string, unknown> {
  const field = info.parentType.getFields()[info.fieldName];
  const types = new Map(field?.args.map((a) => [a.name, a.type]));
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, types.has(k) ? external(types.get(k)!, v) : v]));
}

/** Ids in the arguments become targets; other scalar arguments (and `input`'s) become details. */
function fromArgs(args: Record<string, unknown>, targets: string[], details: Record<string, Scalar>): void {
  for (const [key, value] of Object.entries(args)) {
    if (isRecord(value)) {
      fromArgs(value, targets, details);
      continue;
    }
    const v = scalar(value);
    if (v === undefined) continue;
    if (isIdKey(key) && typeof v === "string") targets.push(v);
    else details[key] = v;
  }
}

/**
 * Ids of what the resolver returned, before the client's selection cuts it
 * (a created key's id is recorded even when the client did not ask for it):
 * the result's id and ids, and the id of each object it holds. Its tenant id
 * is the record's tenant, not a target.
 */
function fromResult(result: unknown, targets: string[]): void {
  if (!isRecord(result)) return;
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === "string" && isIdKey(key) && key !== "tenantId") targets.push(value);
    else if (isRecord(value) && typeof value.id === "string") targets.push(value.id);
  }
}

type MutationResolvers = Record<string, GraphQLFieldResolver<unknown, GraphQLContext>>;

/**
 * Wraps every mutation resolver so each executed mutation field is exactly
 * one audit record: who, tenant, action (the field name), targets, outcome
 * with the error code, request and trace ids. Queries are not wrapped (no
 * cost on the read path). Arguments named like secrets are redacted by the
 * trail; the results (which may hold a new secret) only give their ids.
 */
export function auditMutations(mutations: MutationResolvers, audit: EdgeAudit): MutationResolvers {
  const wrapped: MutationResolvers = {};
  for (const [field, resolve] of Object.entries(mutations)) {
    wrapped[field] = async (root, args: Record<string, unknown>, ctx, info) => {
      const targets: string[] = [];
      const details: Record<string, Scalar> = {};
      fromArgs(externalArgs(info, args), targets, details);
      const base = {
        action: field,
        tenantId: ctx.principal.tenant.id,
        principal: ctx.requestContext.principal ? principalToString(ctx.requestContext.principal) : "anonymous",
        requestId: ctx.requestContext.requestId,
        details,
      };
      try {
        const result: unknown = await resolve(root, args, ctx, info);
        fromResult(result, targets);
        audit.record({ ...base, outcome: "ok", targetIds: targets });
        return result;
      } catch (err) {
        const code = errorCode(err);
        audit.record({ ...base, outcome: outcomeOf(code), targetIds: targets, errorCodes: [code] });
        throw err;
      }
    };
  }
  return wrapped;
}
