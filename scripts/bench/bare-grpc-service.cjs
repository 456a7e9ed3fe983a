// A baseline of `make bench`: a bare grpc-js server with the real generated
// UserService and AccountService definitions, answering the reads of the demo
// tenant from an in-memory map. No auth, no database at request time, no cache:
// what svc-identity's reads would cost if fetching the rows were free.
//
// DATABASE_URL (the bench database, as its owner): the map is loaded from it at
// start, so the answers are the demo tenant's real rows. Without it, 250 users
// in 2 accounts of the same shapes are made up. Prints `listening <port>` when
// ready. GRPC_PORT (default 0).
"use strict";
const { randomBytes, randomUUID } = require("node:crypto");
const { Server, ServerCredentials, status } = require("@grpc/grpc-js");
const { PageTokenCodec } = require("@apgms/common/pagination");
const { AccountServiceService } = require("@apgms/proto/apgms/identity/v1/account");
const { Role, UserServiceService } = require("@apgms/proto/apgms/identity/v1/user");

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const roles = { owner: Role.ROLE_OWNER, admin: Role.ROLE_ADMIN, analyst: Role.ROLE_ANALYST, viewer: Role.ROLE_VIEWER };

async function loadDemoTenant(databaseUrl) {
  const { Client } = require("pg");
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const users = await pg.query(
      `SELECT u.* FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id
        WHERE t.slug = 'demo' ORDER BY u.created_at, u.id`,
    );
    const accounts = await pg.query(
      `SELECT a.*, (SELECT count(*)::int FROM identity.users x WHERE x.account_id = a.id) AS user_count
         FROM identity.accounts a JOIN identity.tenants t ON t.id = a.tenant_id WHERE t.slug = 'demo'`,
    );
    return {
      users: users.rows.map((u) => ({
        id: u.id,
        tenantId: u.tenant_id,
        accountId: u.account_id,
        email: u.email,
        displayName: u.display_name,
        role: roles[u.role],
        oidcIssuer: u.oidc_issuer,
        oidcSubject: u.oidc_subject,
        createTime: u.created_at,
        updateTime: u.updated_at,
      })),
      accounts: accounts.rows.map((a) => ({ id: a.id, tenantId: a.tenant_id, name: a.name, userCount: a.user_count, createTime: a.created_at, updateTime: a.updated_at })),
    };
  } finally {
    await pg.end();
  }
}

function madeUpTenant() {
  const tenantId = randomUUID();
  const now = new Date();
  const accounts = ["Main", "Second"].map((name) => ({ id: randomUUID(), tenantId, name, userCount: 125, createTime: now, updateTime: now }));
  const users = Array.from({ length: 250 }, (_, n) => ({
    id: randomUUID(),
    tenantId,
    accountId: accounts[n % 2].id,
    email: `crowd${n}@demo.apgms.dev`,
    displayName: `Crowd ${n}`,
    role: Role.ROLE_VIEWER,
    oidcIssuer: "http://127.0.0.1:4001",
    oidcSubject: `crowd-${n}`,
    createTime: now,
    updateTime: now,
  })).sort((a, b) => (a.id < b.id ? -1 : 1));
  return { users, accounts };
}

const notFound = (what, id) => Object.assign(new Error(`${what} ${id} not found`), { code: status.NOT_FOUND });

async function main() {
  const { users, accounts } = process.env.DATABASE_URL ? await loadDemoTenant(process.env.DATABASE_URL) : madeUpTenant();
  const userById = new Map(users.map((u) => [u.id, u]));
  const accountById = new Map(accounts.map((a) => [a.id, a]));
  // Page tokens signed like svc-identity's (HMAC, bound to the list), so ListUsers answers the same bytes.
  const pages = new PageTokenCodec([randomBytes(32)]);
  const tenantId = users[0]?.tenantId ?? "";

  const userService = {
    getUser(call, callback) {
      const user = userById.get(call.request.userId);
      user ? callback(null, { user }) : callback(notFound("user", call.request.userId));
    },
    batchGetUsers(call, callback) {
      callback(null, { users: call.request.userIds.map((id) => userById.get(id)).filter(Boolean) });
    },
    listUsers(call, callback) {
      const { page, accountId } = call.request;
      const size = Math.min(page?.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const query = { list: "apgms.identity.v1/ListUsers", tenantId, filters: { accountId } };
      const after = page?.pageToken ? pages.open(page.pageToken, query) : undefined;
      if (page?.pageToken && !after) return callback(Object.assign(new Error("bad page token"), { code: status.INVALID_ARGUMENT }));
      const matching = accountId ? users.filter((u) => u.accountId === accountId) : users;
      const from = after ? matching.findIndex((u) => u.id === after[1]) + 1 : 0;
      const slice = matching.slice(from, from + size + 1);
      const items = slice.slice(0, size);
      const last = items[items.length - 1];
      const nextPageToken = slice.length > size && last ? pages.seal([last.createTime.toISOString(), last.id], query) : "";
      callback(null, { users: items, page: { nextPageToken } });
    },
  };
  const accountService = {
    getAccount(call, callback) {
      const account = accountById.get(call.request.accountId);
      account ? callback(null, { account }) : callback(notFound("account", call.request.accountId));
    },
    batchGetAccounts(call, callback) {
      callback(null, { accounts: call.request.accountIds.map((id) => accountById.get(id)).filter(Boolean) });
    },
  };

  // Options as in common/src/grpc/server.ts; methods not implemented here answer UNIMPLEMENTED.
  const server = new Server({ "grpc.max_receive_message_length": 8 * 1024 * 1024 });
  server.addService(UserServiceService, userService);
  server.addService(AccountServiceService, accountService);
  server.bindAsync(`127.0.0.1:${Number(process.env.GRPC_PORT ?? 0)}`, ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`listening ${port} (${users.length} users, ${accounts.length} accounts)\n`);
  });
  process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`bare-grpc-service: ${err.stack ?? err}\n`);
  process.exit(1);
});
