// A baseline of `make bench`: bare GraphQL Yoga on node:http whose resolvers call
// bare-grpc-service.cjs through the real generated grpc-js clients. No auth, no
// limits, no express: what the edge's `user(id)` and `users(first)` would cost
// with nothing but Yoga, grpc-js and protobuf in the way. Like the real edge,
// `user` is one GetUser call and `users` one ListUsers plus one BatchGetAccounts
// (a per-request DataLoader) for the accounts of the page.
//
// GRPC_ADDRESS (host:port of bare-grpc-service), PORT (default 0).
"use strict";
const { createServer } = require("node:http");
const { credentials, Metadata } = require("@grpc/grpc-js");
const DataLoader = require("dataloader");
const { createSchema, createYoga } = require("graphql-yoga");
const { AccountServiceClient } = require("@apgms/proto/apgms/identity/v1/account");
const { Role, UserServiceClient } = require("@apgms/proto/apgms/identity/v1/user");

const typeDefs = /* GraphQL */ `
  enum Role {
    OWNER
    ADMIN
    ANALYST
    VIEWER
  }
  type Account {
    id: ID!
    name: String!
    userCount: Int!
  }
  type User {
    id: ID!
    email: String!
    displayName: String!
    role: Role!
    account: Account!
    oidcIssuer: String!
    oidcSubject: String!
  }
  type UserConnection {
    nodes: [User!]!
  }
  type Query {
    user(id: ID!): User!
    users(first: Int): UserConnection!
  }
`;

// Channel options as in common/src/grpc/client.ts; both clients share one connection, as the edge's do.
const address = process.env.GRPC_ADDRESS;
if (!address) throw new Error("GRPC_ADDRESS is required");
const channelOptions = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.max_receive_message_length": 8 * 1024 * 1024,
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 3_000,
};
const users = new UserServiceClient(address, credentials.createInsecure(), channelOptions);
const accounts = new AccountServiceClient(address, credentials.createInsecure(), { ...channelOptions, channelOverride: users.getChannel() });

/** One unary call with a deadline, as promise. */
const call = (client, method, request) =>
  new Promise((resolve, reject) => {
    client[method](request, new Metadata(), { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });

const resolvers = {
  Role: { OWNER: Role.ROLE_OWNER, ADMIN: Role.ROLE_ADMIN, ANALYST: Role.ROLE_ANALYST, VIEWER: Role.ROLE_VIEWER },
  Query: {
    user: async (_, { id }) => (await call(users, "getUser", { userId: id })).user,
    users: async (_, { first }) => {
      const res = await call(users, "listUsers", { page: { pageSize: first ?? 0, pageToken: "" }, accountId: "" });
      return { nodes: res.users };
    },
  },
  User: {
    account: (user, _, ctx) => ctx.accounts.load(user.accountId),
  },
};

const loadAccounts = async (ids) => {
  const res = await call(accounts, "batchGetAccounts", { accountIds: [...ids] });
  const byId = new Map(res.accounts.map((a) => [a.id, a]));
  return ids.map((id) => byId.get(id) ?? new Error(`account ${id} not found`));
};

const yoga = createYoga({
  schema: createSchema({ typeDefs, resolvers }),
  context: () => ({ accounts: new DataLoader(loadAccounts) }),
  graphiql: false,
  landingPage: false,
  logging: false,
});
const server = createServer(yoga);
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
