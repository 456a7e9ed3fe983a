import { identityMutationFields, identityQueryFields, identityTypeDefs } from "../onboarding/schema.js";

/** The identity part of the edge's GraphQL contract: it declares Query and Mutation, which other domains extend. */
export const typeDefs = /* GraphQL */ `
  ${identityTypeDefs}

  enum PrincipalKind {
    USER
    API_KEY
  }

  type Account {
    id: ID!
    name: String!
    userCount: Int!
    users(first: Int, after: String): UserConnection!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type AccountConnection {
    nodes: [Account!]!
    pageInfo: PageInfo!
  }

  type User {
    id: ID!
    email: String!
    displayName: String!
    role: Role!
    account: Account!
    oidcIssuer: String!
    oidcSubject: String!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type UserConnection {
    nodes: [User!]!
    pageInfo: PageInfo!
  }

  type Session {
    id: ID!
    user: User!
    userAgent: String!
    ip: String!
    createdAt: DateTime!
    lastSeenAt: DateTime!
    expiresAt: DateTime
    revokedAt: DateTime
    "True for the session this request was made in."
    current: Boolean!
  }

  type SessionConnection {
    nodes: [Session!]!
    pageInfo: PageInfo!
  }

  type ApiKeyRotation {
    oldPrefix: String!
    newPrefix: String!
    rotatedAt: DateTime!
    "The old secret works until then."
    graceEndsAt: DateTime!
    actor: String!
  }

  type ApiKey {
    id: ID!
    name: String!
    "Public part of the current secret; safe to show."
    prefix: String!
    scopes: [String!]!
    createdAt: DateTime!
    expiresAt: DateTime
    revokedAt: DateTime
    lastUsedAt: DateTime
    rotations: [ApiKeyRotation!]!
  }

  type ApiKeyConnection {
    nodes: [ApiKey!]!
    pageInfo: PageInfo!
  }

  "An API key with its secret: shown this once, never again."
  type ApiKeyWithSecret {
    apiKey: ApiKey!
    secret: String!
  }

  "The caller: a signed-in user or an API key, and its tenant."
  type Me {
    kind: PrincipalKind!
    tenant: Tenant!
    user: User
    role: Role
    apiKey: ApiKey
    scopes: [String!]!
  }

  enum InvitationState {
    PENDING
    ACCEPTED
    REVOKED
    EXPIRED
  }

  type Invitation {
    id: ID!
    email: String!
    role: Role!
    "Name the user gets; empty means the accepting token's name or email."
    displayName: String!
    account: Account!
    state: InvitationState!
    "Who invited, e.g. user:<id>."
    createdBy: String!
    createdAt: DateTime!
    expiresAt: DateTime!
    "How many codes were issued (1 + resends); only the newest works."
    sendCount: Int!
    lastSentAt: DateTime!
    acceptedAt: DateTime
    acceptedUserId: ID
    revokedAt: DateTime
  }

  type InvitationConnection {
    nodes: [Invitation!]!
    pageInfo: PageInfo!
  }

  "An invitation with its one-time code: shown this once, never again."
  type InvitationWithCode {
    invitation: Invitation!
    code: String!
  }

  type DeleteAccountPayload {
    deletedUsers: Int!
  }

  type Query {
    me: Me!
    tenant: Tenant!
    account(id: ID!): Account!
    accounts(first: Int, after: String): AccountConnection!
    user(id: ID!): User!
    users(first: Int, after: String, accountId: ID): UserConnection!
    "Admins see every session of the tenant; others only their own."
    sessions(first: Int, after: String, userId: ID, includeRevoked: Boolean = false): SessionConnection!
    apiKey(id: ID!): ApiKey!
    apiKeys(first: Int, after: String, includeRevoked: Boolean = false): ApiKeyConnection!
    "Pending invitations, or every one with includeClosed (owners and admins)."
    invitations(first: Int, after: String, includeClosed: Boolean = false): InvitationConnection!
    ${identityQueryFields}
  }

  input UpdateTenantInput {
    name: String
    deletionProtection: Boolean
  }

  input CreateAccountInput {
    name: String!
  }

  input UpdateAccountInput {
    name: String
  }

  "Provisioning only (API keys with identity:provision): links a user to an identity directly."
  input CreateUserInput {
    accountId: ID!
    email: String!
    displayName: String!
    role: Role!
    "The user's subject at the OIDC provider (e.g. the Okta user id)."
    oidcSubject: String!
    "Defaults to the issuer this edge trusts; must be one of the trusted provisioning issuers."
    oidcIssuer: String
  }

  input InviteUserInput {
    accountId: ID!
    email: String!
    role: Role!
    "Default: the accepting token's name or email."
    displayName: String
  }

  input UpdateUserInput {
    displayName: String
    role: Role
  }

  input CreateApiKeyInput {
    name: String!
    scopes: [String!]!
    expiresAt: DateTime
  }

  type Mutation {
    updateTenant(input: UpdateTenantInput!): Tenant!
    "Needs deletion protection off and the tenant's slug as confirmation. Soft-deletes at once."
    deleteTenant(confirmation: String!): Tenant!
    createAccount(input: CreateAccountInput!): Account!
    updateAccount(id: ID!, input: UpdateAccountInput!): Account!
    "Refused while the account has users unless cascade is true."
    deleteAccount(id: ID!, cascade: Boolean = false): DeleteAccountPayload!
    "Invites someone by email; they join by accepting (acceptInvitation). The code is shown once."
    inviteUser(input: InviteUserInput!): InvitationWithCode!
    "Issues a new code and expiry; the previous code stops working."
    resendInvitation(id: ID!): InvitationWithCode!
    revokeInvitation(id: ID!): Invitation!
    "For the identity provider's provisioning key (scope identity:provision) only; people join through inviteUser."
    createUser(input: CreateUserInput!): User!
    updateUser(id: ID!, input: UpdateUserInput!): User!
    deleteUser(id: ID!): Boolean!
    revokeSession(id: ID!): Session!
    createApiKey(input: CreateApiKeyInput!): ApiKeyWithSecret!
    "Issues a new secret; the old one keeps working for the grace period (default 24 h)."
    rotateApiKey(id: ID!, gracePeriodSeconds: Int): ApiKeyWithSecret!
    revokeApiKey(id: ID!): ApiKey!
    ${identityMutationFields}
  }
`;
