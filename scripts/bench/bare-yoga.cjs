// The baseline of `make bench`: a bare GraphQL Yoga on express answering a
// static `me` of the same shape as the real edge, with no auth and no I/O.
"use strict";
const express = require("express");
const { createSchema, createYoga } = require("graphql-yoga");

const typeDefs = /* GraphQL */ `
  type User { id: ID! email: String! displayName: String! role: String! }
  type Tenant { id: ID! name: String! slug: String! }
  type Me { user: User tenant: Tenant! }
  type Query { me: Me! }
`;
const me = {
  user: { id: "8c1f3f1e-0000-4000-8000-000000000001", email: "owner@demo.apgms.dev", displayName: "Demo Owner", role: "OWNER" },
  tenant: { id: "8c1f3f1e-0000-4000-8000-000000000002", name: "Demo Co", slug: "demo" },
};
const yoga = createYoga({
  schema: createSchema({ typeDefs, resolvers: { Query: { me: () => me } } }),
  graphiql: false,
  landingPage: false,
  logging: false,
});
const app = express();
app.all("/graphql", (req, res) => yoga(req, res, { req, res }));
const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
