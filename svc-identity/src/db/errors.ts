import { AlreadyExistsError } from "@apgms/common";
import { Prisma } from "../generated/prisma/client.js";

/** Maps a database column (or constraint-name fragment) to the request field it came from. */
export type UniqueFieldMap = Array<[column: string, field: string]>;

function describeConstraint(err: Prisma.PrismaClientKnownRequestError): string {
  const meta = err.meta ?? {};
  const parts: string[] = [];
  const target = meta.target;
  if (typeof target === "string") parts.push(target);
  if (Array.isArray(target)) parts.push(...target.map(String));
  const adapterError = meta.driverAdapterError;
  if (typeof adapterError === "object" && adapterError !== null) {
    const cause = (adapterError as { cause?: { constraint?: { index?: unknown; fields?: unknown } } }).cause;
    const c = cause?.constraint;
    if (typeof c?.index === "string") parts.push(c.index);
    if (Array.isArray(c?.fields)) parts.push(...c.fields.map(String));
  }
  return parts.join(" ");
}

export function isUniqueViolation(err: unknown): err is Prisma.PrismaClientKnownRequestError {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";
}

export function isNotFound(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2025";
}

/**
 * Runs a write and turns a unique violation into ALREADY_EXISTS naming the
 * request field; the first column found in the constraint wins.
 */
export async function uniqueAs<T>(fields: UniqueFieldMap, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const described = describeConstraint(err);
    for (const [column, field] of fields) {
      if (described.includes(column)) throw new AlreadyExistsError(`${field} is already taken`, field);
    }
    throw new AlreadyExistsError("already exists");
  }
}
