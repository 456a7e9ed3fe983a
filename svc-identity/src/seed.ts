// Seeds the demo tenant through the service's own data access (a development
// tool). Idempotent: what exists is left as it is, so re-running changes
// nothing, with one exception: the demo API key's secret is stored only as a
// hash, so when DEMO_API_KEY_FILE does not hold its current secret (a fresh
// clone against a database seeded before) the key is rotated with no grace and
// the new secret written, and the README's API-key curl works after every seed.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { asPlatform, loadConfig, withTenant } from "@apgms/common";
import { z } from "zod";
import { connectIdentityCache, writing, type IdentityCache } from "./cache.js";
import { configSchema, DATABASE_SCHEMA } from "./config.js";
import type { PrismaClient, Role } from "./generated/prisma/client.js";
import { createPrisma, type Db, type Tx } from "./db/client.js";
import { createAccount, findAccountByName } from "./db/accounts.js";
import { createApiKey, findActiveApiKeyByName, rotateApiKey, type ApiKeyView } from "./db/api-keys.js";
import { createTenant, findTenantBySlug } from "./db/tenants.js";
import { createUser, findUserByEmail } from "./db/users.js";
import { prefixOf, secretMatches } from "./domain/api-key-secret.js";
import { API_KEY_SCOPES } from "./domain/scopes.js";

const seedSchema = configSchema.pick({ DATABASE_URL: true, REDIS_URL: true, REDIS_KEY_PREFIX: true, READ_CACHE_ENABLED: true, READ_CACHE_TTL_SECONDS: true }).extend({
  DEV_OIDC_ISSUER: z.string().url().default("http://127.0.0.1:4001"),
  DEMO_API_KEY_FILE: z.string().min(1).default(".dev/demo-api-key"),
  /** Where the demo tenant's id is written, for the other services' seeds (they never read identity's tables). */
  DEMO_TENANT_FILE: z.string().min(1).default(".dev/demo-tenant-id"),
});
type SeedConfig = Pick<z.infer<typeof seedSchema>, "DEV_OIDC_ISSUER" | "DEMO_API_KEY_FILE"> & Partial<Pick<z.infer<typeof seedSchema>, "DEMO_TENANT_FILE">>;

export const DEMO = {
  tenant: { name: "Demo Co", slug: "demo" },
  account: "Main",
  domain: "demo.apgms.dev",
  roles: ["owner", "admin", "analyst", "viewer"] as const satisfies readonly Role[],
  apiKey: { name: "demo", scopes: API_KEY_SCOPES.filter((s) => s !== "identity:provision") },
  actor: "service:seed",
};

const displayName = (role: Role) => `Demo ${role[0]?.toUpperCase()}${role.slice(1)}`;

async function readSecretFile(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function writeSecretFile(file: string, secret: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an old file keeps its own.
  await chmod(file, 0o600);
}

/** Whether `secret` is the key's current secret (not one in a grace period, not another key's). */
async function isCurrentSecret(db: Db, key: ApiKeyView, secret: string | undefined): Promise<boolean> {
  if (!secret || prefixOf(secret) !== key.prefix) return false;
  const current = await db.apiKeySecret.findFirst({ where: { apiKeyId: key.id, prefix: key.prefix, validUntil: null } });
  return current !== null && secretMatches(secret, current.secretHash);
}

/**
 * Runs as the service's role, under row-level security like the service: the
 * slug lookup (across tenants) in the platform scope, everything else as the
 * demo tenant. Its writes invalidate the running services' cache like theirs do.
 */
export async function seed(prisma: PrismaClient, cache: IdentityCache, config: SeedConfig): Promise<string[]> {
  const issuer = config.DEV_OIDC_ISSUER;
  const user = (role: Role) => {
    const email = `${role}@${DEMO.domain}`;
    return { email, displayName: displayName(role), role, oidcIssuer: issuer, oidcSubject: email };
  };
  const lines: string[] = [];
  const said = (created: boolean) => (created ? "created" : "exists");

  let tenant = await asPlatform(prisma, (tx) => findTenantBySlug(tx, DEMO.tenant.slug));
  if (tenant?.deletedAt) throw new Error(`tenant "${DEMO.tenant.slug}" is soft-deleted; it can be seeded again after its purge`);
  const tenantCreated = !tenant;
  if (!tenant) {
    const { role: _owner, ...owner } = user("owner");
    tenant = (await createTenant(prisma, { ...DEMO.tenant, accountName: DEMO.account, owner })).tenant;
  }
  const tenantId = tenant.id;
  const asTenant = <R>(fn: (tx: Tx) => Promise<R>) => withTenant<Tx, R>(prisma, tenantId, fn);
  lines.push(`tenant   ${tenant.name} (slug ${tenant.slug}, id ${tenant.id}) ${said(tenantCreated)}`);
  if (config.DEMO_TENANT_FILE) {
    const tenantFile = path.resolve(config.DEMO_TENANT_FILE);
    await mkdir(path.dirname(tenantFile), { recursive: true });
    await writeFile(tenantFile, `${tenant.id}\n`);
  }

  let account = await asTenant((tx) => findAccountByName(tx, tenantId, DEMO.account));
  const accountCreated = tenantCreated || !account;
  account ??= await asTenant((tx) => createAccount(tx, tenantId, DEMO.account));
  lines.push(`account  ${account.name} (id ${account.id}) ${said(accountCreated)}`);

  for (const role of DEMO.roles) {
    const wanted = user(role);
    const accountId = account.id;
    const existing = await asTenant((tx) => findUserByEmail(tx, tenantId, wanted.email));
    if (!existing) await writing(cache, (changes) => asTenant((tx) => createUser(tx, tenantId, { accountId, ...wanted }, changes)));
    const created = !existing || (tenantCreated && role === "owner");
    lines.push(`user     ${wanted.email} (${role}) ${said(created)}`);
  }
  lines.push(`sign in  through ${issuer} as any of these emails (the OIDC subject is the email)`);

  const file = path.resolve(config.DEMO_API_KEY_FILE);
  const isCurrentSecretIn = (key: ApiKeyView, secret: string | undefined) => asTenant((tx) => isCurrentSecret(tx, key, secret));
  const existingKey = await asTenant((tx) => findActiveApiKeyByName(tx, tenantId, DEMO.apiKey.name));
  if (!existingKey) {
    const { apiKey, secret } = await asTenant((tx) => createApiKey(tx, tenantId, { ...DEMO.apiKey, createdBy: DEMO.actor }));
    await writeSecretFile(file, secret);
    lines.push(`api key  ${apiKey.prefix} created (${apiKey.scopes.join(" ")}); secret written to ${file}`);
  } else if (await isCurrentSecretIn(existingKey, await readSecretFile(file))) {
    lines.push(`api key  ${existingKey.prefix} exists; its secret is in ${file}`);
  } else {
    // No grace: the old secret was only ever in this file, so it must stop working rather than linger unseen.
    const { apiKey, secret } = await writing(cache, (changes) => asTenant((tx) => rotateApiKey(tx, tenantId, existingKey.id, 0, DEMO.actor, changes)));
    await writeSecretFile(file, secret);
    lines.push(`api key  ${existingKey.prefix} rotated to ${apiKey.prefix} (${file} did not hold its secret); secret written to ${file}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const config = loadConfig(seedSchema);
  const prisma = createPrisma({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA, maxConnections: 2 });
  const cache = connectIdentityCache(config);
  try {
    const lines = await seed(prisma, cache.cache, config);
    process.stdout.write(`svc-identity seed:\n  ${lines.join("\n  ")}\n`);
  } finally {
    await cache.close();
    await prisma.$disconnect();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`seed failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
