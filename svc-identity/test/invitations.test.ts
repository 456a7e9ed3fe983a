import { status } from "@grpc/grpc-js";
import { InvitationState } from "@apgms/proto/apgms/identity/v1/invitation";
import type { Identity } from "@apgms/proto/apgms/identity/v1/membership";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { expect } from "chai";
import { expectError, startHarness, type Harness, type Provisioned } from "./harness.js";

describe("InvitationService and accepting an invitation", () => {
  let h: Harness;
  let t: Provisioned;
  before(async function () {
    this.timeout(60_000);
    h = await startHarness("ident_inv");
    t = await h.provision("inv");
  });
  after(() => h?.stop());

  let seq = 0;
  const identity = (over: Partial<Identity> = {}): Identity => {
    const n = ++seq;
    return { issuer: "https://issuer.test", subject: `invitee-${n}`, email: `invitee${n}@example.com`, emailVerified: true, name: `Invitee ${n}`, ...over };
  };
  const invite = async (email: string, role = Role.ROLE_ANALYST, displayName = "") =>
    h.invitations.createInvitation({ accountId: t.accountId, email, role, displayName }, t.ctx);

  it("creates a pending invitation with a one-time code stored only as a hash", async () => {
    const res = await invite("New.Person@Example.com", Role.ROLE_ADMIN, "New Person");
    expect(res.code).to.match(/^apgms_inv_[0-9A-Za-z]{32}$/);
    expect(res.invitation).to.deep.include({ email: "new.person@example.com", role: Role.ROLE_ADMIN, state: InvitationState.INVITATION_STATE_PENDING, sendCount: 1 });
    expect(res.invitation?.createdBy).to.equal(`user:${t.ownerId}`);
    const row = await h.prisma.invitation.findUniqueOrThrow({ where: { id: res.invitation!.id } });
    expect(row.codeHash).to.match(/^[0-9a-f]{64}$/);
    expect(row.codeHash).to.not.include(res.code);
    const listed = await h.invitations.listInvitations({ page: undefined, includeClosed: false }, t.ctx);
    expect(listed.invitations.map((i) => i.id)).to.include(res.invitation!.id);
  });

  it("links the user when the invitee's verified email matches, and only then", async () => {
    const who = identity();
    const { invitation } = await invite(who.email, Role.ROLE_VIEWER, "");
    const mine = await h.memberships.listInvitationsForEmail({ identity: who });
    expect(mine.invitations.map((i) => i.invitation?.id)).to.deep.equal([invitation!.id]);
    expect(mine.invitations[0]).to.include({ tenantSlug: t.slug });

    const stranger = identity();
    await expectError(h.memberships.acceptInvitation({ identity: stranger, invitationId: invitation!.id }), status.NOT_FOUND);
    await expectError(h.memberships.acceptInvitation({ identity: { ...who, emailVerified: false }, invitationId: invitation!.id }), status.NOT_FOUND);
    expect((await h.memberships.listInvitationsForEmail({ identity: { ...who, emailVerified: false } })).invitations).to.deep.equal([]);

    const accepted = await h.memberships.acceptInvitation({ identity: who, invitationId: invitation!.id });
    expect(accepted.membership?.tenant?.id).to.equal(t.tenantId);
    expect(accepted.membership?.user).to.deep.include({ email: who.email, role: Role.ROLE_VIEWER, oidcIssuer: who.issuer, oidcSubject: who.subject, displayName: who.name });
    const resolved = await h.principals.resolveOidcSubject({ issuer: who.issuer, subject: who.subject });
    expect(resolved.user?.id).to.equal(accepted.membership?.user?.id);
    const closed = await h.invitations.getInvitation({ invitationId: invitation!.id }, t.ctx);
    expect(closed.invitation).to.deep.include({ state: InvitationState.INVITATION_STATE_ACCEPTED, acceptedUserId: accepted.membership?.user?.id });
    await expectError(h.memberships.acceptInvitation({ identity: who, invitationId: invitation!.id }), status.FAILED_PRECONDITION);
  });

  it("accepts by code for any identity, once; the code of a resent invitation replaces the old one", async () => {
    const first = await invite("by-code@example.com");
    const resent = await h.invitations.resendInvitation({ invitationId: first.invitation!.id }, t.ctx);
    expect(resent.invitation?.sendCount).to.equal(2);
    expect(resent.code).to.not.equal(first.code);
    const who = identity({ email: "someone-else@example.com", emailVerified: false });
    await expectError(h.memberships.acceptInvitation({ identity: who, code: first.code }), status.NOT_FOUND);
    await expectError(h.memberships.acceptInvitation({ identity: who, code: "apgms_inv_forged" }), status.NOT_FOUND);
    const ok = await h.memberships.acceptInvitation({ identity: who, code: resent.code });
    // The user gets the invited email, not the token's.
    expect(ok.membership?.user?.email).to.equal("by-code@example.com");
    await expectError(h.memberships.acceptInvitation({ identity: identity(), code: resent.code }), status.FAILED_PRECONDITION);
  });

  it("refuses an expired or revoked invitation, and creates no user", async () => {
    const who = identity();
    const expired = await invite(who.email);
    await h.prisma.invitation.update({ where: { id: expired.invitation!.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await expectError(h.memberships.acceptInvitation({ identity: who, code: expired.code }), status.FAILED_PRECONDITION);
    expect((await h.invitations.getInvitation({ invitationId: expired.invitation!.id }, t.ctx)).invitation?.state).to.equal(InvitationState.INVITATION_STATE_EXPIRED);

    const other = identity();
    const revoked = await invite(other.email);
    await h.invitations.revokeInvitation({ invitationId: revoked.invitation!.id }, t.ctx);
    await expectError(h.memberships.acceptInvitation({ identity: other, invitationId: revoked.invitation!.id }), status.FAILED_PRECONDITION);
    await expectError(h.invitations.resendInvitation({ invitationId: revoked.invitation!.id }, t.ctx), status.FAILED_PRECONDITION);
    expect(await h.prisma.user.count({ where: { email: { in: [who.email, other.email] } } })).to.equal(0);
  });

  it("refuses inviting a member's email or a second pending invitation, naming the field", async () => {
    await expectError(invite(`owner@${t.slug}.example`), status.ALREADY_EXISTS, "email");
    await invite("twice@example.com");
    await expectError(invite("TWICE@example.com"), status.ALREADY_EXISTS, "email");
    await expectError(invite("not-an-email"), status.INVALID_ARGUMENT, "email");
    await expectError(h.invitations.createInvitation({ accountId: t.accountId, email: "r@example.com", role: Role.ROLE_UNSPECIFIED, displayName: "" }, t.ctx), status.INVALID_ARGUMENT, "role");
  });

  it("keeps invitations inside their tenant", async () => {
    const other = await h.provision("inv-other");
    const { invitation } = await invite("isolated@example.com");
    await expectError(h.invitations.getInvitation({ invitationId: invitation!.id }, other.ctx), status.NOT_FOUND);
    await expectError(h.invitations.revokeInvitation({ invitationId: invitation!.id }, other.ctx), status.NOT_FOUND);
    await expectError(h.invitations.resendInvitation({ invitationId: invitation!.id }, other.ctx), status.NOT_FOUND);
    await expectError(h.invitations.createInvitation({ accountId: t.accountId, email: "x@example.com", role: Role.ROLE_VIEWER, displayName: "" }, other.ctx), status.NOT_FOUND);
    const listed = await h.invitations.listInvitations({ page: undefined, includeClosed: true }, other.ctx);
    expect(listed.invitations).to.deep.equal([]);
  });

  it("lets the same identity join a second tenant, and refuses joining one it already belongs to", async () => {
    const who = identity();
    const first = await invite(who.email);
    await h.memberships.acceptInvitation({ identity: who, code: first.code });
    const second = await h.provision("inv-second");
    const inv2 = await h.invitations.createInvitation({ accountId: second.accountId, email: who.email, role: Role.ROLE_ADMIN, displayName: "" }, second.ctx);
    await h.memberships.acceptInvitation({ identity: who, invitationId: inv2.invitation!.id });
    const list = await h.memberships.listMemberships({ identity: who });
    expect(list.memberships.map((m) => m.tenant?.id)).to.deep.equal([t.tenantId, second.tenantId]);
    const inSecond = await h.principals.resolveOidcSubject({ issuer: who.issuer, subject: who.subject, tenant: second.slug });
    expect(inSecond.tenant?.id).to.equal(second.tenantId);
    const byDefault = await h.principals.resolveOidcSubject({ issuer: who.issuer, subject: who.subject });
    expect(byDefault.tenant?.id).to.equal(t.tenantId);
    await expectError(h.principals.resolveOidcSubject({ issuer: who.issuer, subject: who.subject, tenant: "not-mine" }), status.NOT_FOUND);

    const again = await h.invitations.createInvitation({ accountId: t.accountId, email: "alias@example.com", role: Role.ROLE_VIEWER, displayName: "" }, t.ctx);
    await expectError(h.memberships.acceptInvitation({ identity: who, code: again.code }), status.ALREADY_EXISTS);
  });
});
