import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { MetadataKeys } from "./context.js";

/**
 * The one error model: a domain error carries its gRPC status; the edge turns
 * the status into a GraphQL `extensions.code` (see graphqlCodeFor).
 */
export class DomainError extends Error {
  constructor(
    readonly code: status,
    message: string,
    /** The input field at fault, when there is one (e.g. "email"). */
    readonly field?: string,
    /** Why, as a name a client can branch on (e.g. "OFFER_LIMIT_REACHED"), when the status alone does not say. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends DomainError {
  constructor(field: string, message: string) {
    super(status.INVALID_ARGUMENT, `${field}: ${message}`, field);
  }
}
export class NotFoundError extends DomainError {
  constructor(what: string, id?: string) {
    super(status.NOT_FOUND, id ? `${what} ${id} not found` : `${what} not found`);
  }
}
export class AlreadyExistsError extends DomainError {
  constructor(message: string, field?: string) {
    super(status.ALREADY_EXISTS, message, field);
  }
}
export class FailedPreconditionError extends DomainError {
  constructor(message: string, reason?: string) {
    super(status.FAILED_PRECONDITION, message, undefined, reason);
  }
}
/** The client went away (a cancelled stream): nothing to answer. */
export class CancelledError extends DomainError {
  constructor(message: string) {
    super(status.CANCELLED, message);
  }
}
export class PermissionDeniedError extends DomainError {
  constructor(message: string) {
    super(status.PERMISSION_DENIED, message);
  }
}
export class UnauthenticatedError extends DomainError {
  constructor(message: string) {
    super(status.UNAUTHENTICATED, message);
  }
}

/** Turns anything thrown by a handler into the status sent to the caller; unknown errors are masked. */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status; details: string } {
  if (err instanceof DomainError) {
    const metadata = new Metadata();
    if (err.field) metadata.set(MetadataKeys.field, err.field);
    if (err.reason) metadata.set(MetadataKeys.reason, err.reason);
    return { code: err.code, details: err.message, message: err.message, metadata };
  }
  return { code: status.INTERNAL, details: "internal error", message: "internal error" };
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number" && "metadata" in err;
}

/** GraphQL `extensions.code` for a gRPC status code. */
export function graphqlCodeFor(code: status): string {
  switch (code) {
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return "BAD_USER_INPUT";
    case status.NOT_FOUND:
      return "NOT_FOUND";
    case status.ALREADY_EXISTS:
    case status.ABORTED:
      return "CONFLICT";
    case status.FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case status.PERMISSION_DENIED:
      return "FORBIDDEN";
    case status.UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case status.RESOURCE_EXHAUSTED:
      return "RATE_LIMITED";
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return "SERVICE_UNAVAILABLE";
    default:
      return "INTERNAL_SERVER_ERROR";
  }
}
