import { DomainError, FailedPreconditionError, NotFoundError } from "@apgms/common";
import { status } from "@grpc/grpc-js";
import type { ApiKey, ApiKeyRotation, Prisma, Tenant } from "../generated/prisma/client.js";
import { issueSecret, NO_MATCH_HASH, prefixOf, secretMatches } from "../domain/api-key-secret.js";
import { afterCursor, pageOrder, slicePage, type Page } from "@apgms/common";
import type { IdentityChanges } from "../cache.js";
import { transaction, type Db } from "./client.js";

/** A key as callers see it: its current public prefix and rotations, newest first. */
export interface ApiKeyView extends ApiKey {
  prefix: string;
  rotations: ApiKeyRotation[];
}

const view = {
  secrets: { where: { validUntil: null }, select: { prefix: true }, take: 1 },
  rotations: { orderBy: [{ rotatedAt: "desc" }, { id: "desc" }] },
} satisfies Prisma.ApiKeyInclude;

type Row = ApiKey & { secrets: Array<{ prefix: string }>; rotations: ApiKeyRotation[] };

function toView(row: Row): ApiKeyView {
  const { secrets, ...key } = row;
  return { ...key, prefix: secrets[0]?.prefix ?? "" };
}

/** last_used_at is written at most this often per key. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export interface NewApiKey {
  name: string;
  scopes: string[];
  expiresAt?: Date;
  /** Principal string of the creator, e.g. "user:<id>". */
  createdBy: string;
}

export interface IssuedApiKey {
  apiKey: ApiKeyView;
  /** Shown once; only its hash is stored. */
  secret: string;
}

export function createApiKey(db: Db, tenantId: string, input: NewApiKey): Promise<IssuedApiKey> {
  const issued = issueSecret();
  return transaction(db, async (tx) => {
    const key = await tx.apiKey.create({ data: { tenantId, ...input } });
    await tx.apiKeySecret.create({ data: { apiKeyId: key.id, tenantId, prefix: issued.prefix, secretHash: issued.hash } });
    return { apiKey: { ...key, prefix: issued.prefix, rotations: [] }, secret: issued.secret };
  });
}

export async function findApiKey(db: Db, tenantId: string, id: string): Promise<ApiKeyView | null> {
  const row = await db.apiKey.findFirst({ where: { id, tenantId }, include: view });
  return row ? toView(row) : null;
}

export async function requireApiKey(db: Db, tenantId: string, id: string): Promise<ApiKeyView> {
  const key = await findApiKey(db, tenantId, id);
  if (!key) throw new NotFoundError("API key", id);
  return key;
}

/** The oldest unrevoked key with this name (for the seed). */
export async function findActiveApiKeyByName(db: Db, tenantId: string, name: string): Promise<ApiKeyView | null> {
  const row = await db.apiKey.findFirst({ where: { tenantId, name, revokedAt: null }, orderBy: pageOrder, include: view });
  return row ? toView(row) : null;
}

export async function listApiKeys(db: Db, tenantId: string, page: Page, includeRevoked: boolean) {
  const rows = await db.apiKey.findMany({
    where: { tenantId, ...(includeRevoked ? {} : { revokedAt: null }), ...afterCursor(page.after) },
    orderBy: pageOrder,
    take: page.size + 1,
    include: view,
  });
  const { items, nextPageToken } = slicePage(rows, page.size);
  return { apiKeys: items.map(toView), nextPageToken };
}

/**
 * Issues a new current secret; the old one keeps working until now + grace.
 * The rotation is recorded with its actor. A revoked key cannot be rotated.
 */
export function rotateApiKey(db: Db, tenantId: string, id: string, graceSeconds: number, actor: string, changes: IdentityChanges): Promise<IssuedApiKey> {
  const issued = issueSecret();
  return transaction(db, async (tx) => {
    const key = await requireApiKey(tx, tenantId, id);
    if (key.revokedAt) throw new FailedPreconditionError("API key is revoked");
    changes.apiKey(tenantId, id);
    const now = new Date();
    const graceUntil = new Date(now.getTime() + graceSeconds * 1000);
    const { count } = await tx.apiKeySecret.updateMany({
      where: { apiKeyId: id, prefix: key.prefix, validUntil: null },
      data: { validUntil: graceUntil },
    });
    if (count !== 1) throw new DomainError(status.ABORTED, "API key was rotated concurrently; retry");
    await tx.apiKeySecret.create({ data: { apiKeyId: id, tenantId, prefix: issued.prefix, secretHash: issued.hash } });
    await tx.apiKeyRotation.create({
      data: { apiKeyId: id, tenantId, oldPrefix: key.prefix, newPrefix: issued.prefix, rotatedAt: now, graceUntil, actor },
    });
    return { apiKey: await requireApiKey(tx, tenantId, id), secret: issued.secret };
  });
}

/** Revokes at once (every secret of the key stops working); revoking again keeps the first time. */
export async function revokeApiKey(db: Db, tenantId: string, id: string, changes: IdentityChanges): Promise<ApiKeyView> {
  changes.apiKey(tenantId, id);
  await db.apiKey.updateMany({ where: { id, tenantId, revokedAt: null }, data: { revokedAt: new Date() } });
  return requireApiKey(db, tenantId, id);
}

/**
 * The key and tenant a presented secret belongs to, or null when it is
 * malformed, unknown, revoked, expired, past its grace period or its tenant is
 * deleted. Records last use at most once a minute per key.
 */
export async function verifyApiKeySecret(db: Db, secret: string, changes: IdentityChanges): Promise<{ apiKey: ApiKeyView; tenant: Tenant } | null> {
  const prefix = prefixOf(secret);
  const row = prefix
    ? await db.apiKeySecret.findUnique({ where: { prefix }, include: { apiKey: { include: { ...view, tenant: true } } } })
    : null;
  // Compare even when nothing was found, so a miss costs what a hit costs.
  const matches = secretMatches(secret, row?.secretHash ?? NO_MATCH_HASH) && row !== null;
  if (!row || !matches) return null;

  const now = Date.now();
  const { tenant, ...key } = row.apiKey;
  const live =
    key.revokedAt === null &&
    (key.expiresAt === null || key.expiresAt.getTime() > now) &&
    (row.validUntil === null || row.validUntil.getTime() > now) &&
    tenant.deletedAt === null;
  if (!live) return null;

  const apiKey = toView(key);
  if (apiKey.lastUsedAt === null || now - apiKey.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    const threshold = new Date(now - LAST_USED_RESOLUTION_MS);
    const lastUsedAt = new Date(now);
    changes.apiKey(key.tenantId, key.id);
    await db.apiKey.updateMany({
      where: { id: key.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: threshold } }] },
      data: { lastUsedAt },
    });
    apiKey.lastUsedAt = lastUsedAt;
  }
  return { apiKey, tenant };
}
