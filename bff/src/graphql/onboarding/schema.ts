/** Shared by both schemas: the main one answers it with CONFLICT for identities that already have a user. */
export const signUpTypeDefs = /* GraphQL */ `
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

/**
 * The whole schema an identity without a user sees: it can create a tenant and
 * become its owner, nothing else.
 */
export const onboardingTypeDefs = /* GraphQL */ `
  ${signUpTypeDefs}

  type Query {
    "True: this identity is signed in but belongs to no tenant yet."
    signUpAvailable: Boolean!
  }

  type Mutation {
    "Creates a tenant with its first account, and you as its owner."
    signUp(input: SignUpInput!): SignUpResult!
  }
`;
