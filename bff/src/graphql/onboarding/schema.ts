/**
 * Types and operations of the signed-in identity itself (not of one tenant):
 * its memberships, the invitations addressed to it, sign-up and restoring a
 * deleted tenant. Both schemas carry them, so they work with or without a
 * membership in any tenant.
 */
export const identityTypeDefs = /* GraphQL */ `
  "An ISO 8601 timestamp in UTC."
  scalar DateTime

  enum Role {
    OWNER
    ADMIN
    ANALYST
    VIEWER
  }

  type Tenant {
    id: ID!
    name: String!
    slug: String!
    deletionProtection: Boolean!
    createdAt: DateTime!
    updatedAt: DateTime!
    deletedAt: DateTime
    "When a deleted tenant's data is purged for good."
    purgeAt: DateTime
  }

  "A tenant the signed-in identity is a user of. Send its id or slug in the X-APGMS-Tenant header to act in it."
  type Membership {
    tenant: Tenant!
    userId: ID!
    role: Role!
  }

  "An invitation addressed to the signed-in identity's verified email."
  type PendingInvitation {
    id: ID!
    tenantName: String!
    tenantSlug: String!
    email: String!
    role: Role!
    expiresAt: DateTime!
  }

  input SignUpInput {
    "Name of the new tenant."
    tenantName: String!
    "URL-safe, unique across the platform: lower-case letters, digits and dashes."
    slug: String!
    "Name of the tenant's first account (default: Main)."
    accountName: String
    "Your display name (default: the token's name or email)."
    displayName: String
  }

  type SignUpResult {
    tenantId: ID!
    tenantSlug: String!
    accountId: ID!
    "The new owner user, linked to the signed-in identity."
    userId: ID!
  }
`;

export const identityQueryFields = /* GraphQL */ `
    "True when this edge lets a signed-in identity create a tenant (signUp)."
    signUpAvailable: Boolean!
    "The live tenants you are a user of, oldest first (the default tenant of a request is the first)."
    memberships: [Membership!]!
    "Pending invitations to your verified email."
    myInvitations: [PendingInvitation!]!
    "Deleted tenants you own that can still be restored."
    restorableTenants: [Tenant!]!
`;

export const identityMutationFields = /* GraphQL */ `
    "Creates a tenant with its first account, and you as its owner (when signUpAvailable)."
    signUp(input: SignUpInput!): SignUpResult!
    """
    Joins a tenant: by the invitation's id (your token's verified email must be
    the one invited) or by its one-time code.
    """
    acceptInvitation(id: ID, code: String): Membership!
    "Undoes the deletion of a tenant you own, before its purge (deletion protection comes back on)."
    restoreTenant(id: ID!): Tenant!
`;

/** The whole schema an identity with no membership (in the requested tenant) sees. */
export const onboardingTypeDefs = /* GraphQL */ `
  ${identityTypeDefs}

  type Query {
    ${identityQueryFields}
  }

  type Mutation {
    ${identityMutationFields}
  }
`;
