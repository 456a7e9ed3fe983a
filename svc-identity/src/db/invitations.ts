import { AlreadyExistsError, FailedPreconditionError, NotFoundError, withTenant } from "@apgms/common";
import type { Invitation, Role, Tenant, User } from "../generated/prisma/client.js";
import { issueInvitationCode } from "../domain/invitation-code.js";
import { afterCursor, pageOrder, slicePage, type Page } from "@apgms/common";
import type { IdentityChanges } from "../cache.js";
import { transaction, type Db, type Tx } from "./client.js";
import { requireAccount } from "./accounts.js";
import { uniqueAs } from "./errors.js";
import { lockTenant } from "./tenants.js";

export type InvitationState = "pending" | "accepted" | "revoked" | "expired";

export function stateOf(inv: Invitation, now = Date.now()): InvitationState {
  if (inv.acceptedAt) return "accepted";
  if (inv.revokedAt) return "revoked";
  if (inv.expiresAt.getTime() <= now) return "expired";
  return "pending";
}

const pending = (now: Date) => ({ acceptedAt: null, revokedAt: null, expiresAt: { gt: now } });

export interface NewInvitation {
  accountId: string;
  email: string;
  role: Role;
  displayName: string;
  createdBy: string;
  ttlMs: number;
}

export interface IssuedInvitation {
  invitation: Invitation;
  /** Shown once; only its hash is stored. */
  code: string;
}

/**
 * Invites an email into one of the tenant's accounts. Refused when a user of
 * the tenant already has that email, or a pending invitation for it exists
 * (resend that one instead). Nothing here looks at other tenants.
 */
export function createInvitation(db: Db, tenantId: string, input: NewInvitation): Promise<IssuedInvitation> {
  const { code, hash } = issueInvitationCode();
  return transaction(db, async (tx) => {
    await lockTenant(tx, tenantId);
    await requireAccount(tx, tenantId, input.accountId);
    const member = await tx.user.findUnique({ where: { tenantId_email: { tenantId, email: input.email } } });
    if (member) throw new AlreadyExistsError("a user of this tenant already has this email", "email");
    const now = new Date();
    const open = await tx.invitation.findFirst({ where: { tenantId, email: input.email, ...pending(now) } });
    if (open) throw new AlreadyExistsError("a pending invitation for this email exists; resend or revoke it", "email");
    const { ttlMs, ...fields } = input;
    const invitation = await tx.invitation.create({
      data: { tenantId, ...fields, codeHash: hash, createdAt: now, lastSentAt: now, expiresAt: new Date(now.getTime() + ttlMs) },
    });
    return { invitation, code };
  });
}

export async function requireInvitation(db: Db, tenantId: string, id: string): Promise<Invitation> {
  const inv = await db.invitation.findFirst({ where: { id, tenantId } });
  if (!inv) throw new NotFoundError("invitation", id);
  return inv;
}

export async function listInvitations(db: Db, tenantId: string, page: Page, includeClosed: boolean) {
  const rows = await db.invitation.findMany({
    where: { tenantId, ...(includeClosed ? {} : pending(new Date())), ...afterCursor(page.after) },
    orderBy: pageOrder,
    take: page.size + 1,
  });
  const { items, nextPageToken } = slicePage(rows, page.size);
  return { invitations: items, nextPageToken };
}

/** A new code and expiry for an open (pending or expired) invitation; the old code stops working. */
export function resendInvitation(db: Db, tenantId: string, id: string, ttlMs: number): Promise<IssuedInvitation> {
  const { code, hash } = issueInvitationCode();
  return transaction(db, async (tx) => {
    const inv = await requireInvitation(tx, tenantId, id);
    const state = stateOf(inv);
    if (state === "accepted" || state === "revoked") throw new FailedPreconditionError(`invitation is ${state}`);
    const now = new Date();
    const invitation = await tx.invitation.update({
      where: { id },
      data: { codeHash: hash, expiresAt: new Date(now.getTime() + ttlMs), sendCount: { increment: 1 }, lastSentAt: now },
    });
    return { invitation, code };
  });
}

/** Revokes an invitation that was not accepted; revoking again keeps the first time. */
export async function revokeInvitation(db: Db, tenantId: string, id: string): Promise<Invitation> {
  const inv = await requireInvitation(db, tenantId, id);
  if (inv.acceptedAt) throw new FailedPreconditionError("invitation was already accepted; delete the user instead");
  if (inv.revokedAt) return inv;
  return db.invitation.update({ where: { id }, data: { revokedAt: new Date() } });
}

export interface InvitationWithTenant {
  invitation: Invitation;
  tenant: Tenant;
}

/** Pending invitations of live tenants addressed to `email`, newest first. */
export async function listInvitationsForEmail(db: Db, email: string): Promise<InvitationWithTenant[]> {
  const rows = await db.invitation.findMany({
    where: { email, ...pending(new Date()), tenant: { deletedAt: null } },
    include: { tenant: true },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 100,
  });
  return rows.map(({ tenant, ...invitation }) => ({ invitation, tenant }));
}

export interface Acceptance {
  /** Find the invitation by id (then the verified email must match) or by code hash. */
  by: { id: string; verifiedEmail: string | undefined } | { codeHash: string };
  oidcIssuer: string;
  oidcSubject: string;
  /** Used when the invitation names nobody. */
  fallbackDisplayName: string;
}

/**
 * Accepts a pending invitation: creates the user (the invitation's email,
 * role and account) linked to the accepting identity, and closes the
 * invitation, in one transaction. Every way it can fail for a caller who is
 * not the invitee answers the same NOT_FOUND, so ids and codes cannot be probed.
 */
export function acceptInvitation(db: Db, a: Acceptance, changes: IdentityChanges): Promise<{ user: User; tenant: Tenant }> {
  const notFound = () => new NotFoundError("invitation");
  return transaction(db, async (tx) => {
    const where = "codeHash" in a.by ? { codeHash: a.by.codeHash } : { id: a.by.id };
    const found = await tx.invitation.findUnique({ where, include: { tenant: true } });
    if (!found || found.tenant.deletedAt) throw notFound();
    if ("id" in a.by && a.by.verifiedEmail !== found.email) throw notFound();
    // Found: the rest acts in the invitation's tenant only, even from a platform-scoped transaction.
    return withTenant<Tx, { user: User; tenant: Tenant }>(tx, found.tenantId, async (tx) => {
      await lockTenant(tx, found.tenantId);
      // Re-read under the lock: a concurrent accept, resend or revoke has finished by now.
      const inv = await tx.invitation.findUnique({ where: { id: found.id } });
      if (!inv || inv.codeHash !== found.codeHash) throw notFound();
      const state = stateOf(inv);
      if (state !== "pending") throw new FailedPreconditionError(`invitation is ${state}`);
      const already = await tx.user.findFirst({
        where: { tenantId: inv.tenantId, oidcIssuer: a.oidcIssuer, oidcSubject: a.oidcSubject },
      });
      if (already) throw new AlreadyExistsError("you are already a user of this tenant");
      changes.account(inv.tenantId, inv.accountId); // its user count
      const user = await uniqueAs([["email", "email"]], () =>
        tx.user.create({
          data: {
            tenantId: inv.tenantId,
            accountId: inv.accountId,
            email: inv.email,
            displayName: inv.displayName || a.fallbackDisplayName,
            role: inv.role,
            oidcIssuer: a.oidcIssuer,
            oidcSubject: a.oidcSubject,
          },
        }),
      );
      await tx.invitation.update({ where: { id: inv.id }, data: { acceptedAt: new Date(), acceptedUserId: user.id } });
      return { user, tenant: found.tenant };
    });
  });
}
