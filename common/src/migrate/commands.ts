import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Client } from "pg";
import type { SchemaEngine, SchemaFilter } from "@prisma/schema-engine-wasm";
import { assertIdentifier, parseDatabaseUrl, quoteIdent } from "./connection.js";
import { closeSchemaEngine, engineError, openSchemaEngine } from "./engine.js";
import { LOCK_CONTENT, readMigrations, writeMigration } from "./migrations-dir.js";
import { createMigrationAdapterFactory } from "./pg-adapter.js";

const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

export interface TargetOptions {
  /** postgres:// URL of the service database (create/diff: the server that hosts the shadow database). */
  databaseUrl: string;
  /** Postgres schema of the service; `_prisma_migrations` lives there. */
  schema: string;
  /** Folder of `<timestamp>_<name>/migration.sql`. */
  migrationsDir: string;
}

async function withEngine<T>(
  opts: TargetOptions & { datamodels?: [string, string][] },
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const adapterFactory = createMigrationAdapterFactory(opts);
  try {
    const engine = await openSchemaEngine({ adapterFactory, datamodels: opts.datamodels });
    try {
      return await fn(engine);
    } finally {
      closeSchemaEngine(engine);
    }
  } catch (error) {
    throw engineError(error);
  } finally {
    await adapterFactory.cleanup();
  }
}

async function ensureSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new Client(parseDatabaseUrl(databaseUrl));
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(assertIdentifier("schema", schema))}`);
  } finally {
    await client.end();
  }
}

async function readPrismaSchema(file: string): Promise<[string, string][]> {
  const path = resolve(file);
  return [[path, await readFile(path, "utf8")]];
}

export interface DeployResult {
  /** Migrations applied by this call, oldest first; empty when up to date. */
  applied: string[];
}

/** `prisma migrate deploy`: applies pending migrations; idempotent. */
export async function deployMigrations(opts: TargetOptions): Promise<DeployResult> {
  await ensureSchema(opts.databaseUrl, opts.schema);
  const migrationsList = await readMigrations(opts.migrationsDir);
  return withEngine(opts, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    return { applied: out.appliedMigrationNames };
  });
}

export interface CreateOptions extends TargetOptions {
  prismaSchema: string;
  name: string;
}

export interface CreateResult {
  /** Path of the new migration folder; undefined when the schema has no changes. */
  folder?: string;
  script?: string;
}

/** Prisma's folder name: UTC `YYYYMMDDHHMMSS_<name>`. */
export function migrationFolderName(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `${stamp}_${name}`;
}

/**
 * SQL from the migrations folder (replayed in a throwaway shadow database) to
 * the Prisma schema; "" when they match. The engine's createMigration cannot be
 * used alone: through a driver adapter it only reads a shadow-database schema
 * cached by an earlier `migrate dev` step, so this is `migrate diff`.
 */
export async function diffMigrations(opts: TargetOptions & { prismaSchema: string }): Promise<string> {
  const datamodels = await readPrismaSchema(opts.prismaSchema);
  const list = await readMigrations(opts.migrationsDir);
  // The engine reads the provider from migration_lock.toml; a first migration has none yet.
  const migrationsList = { ...list, lockfile: { ...list.lockfile, content: list.lockfile.content ?? LOCK_CONTENT } };
  const out = await withEngine({ ...opts, datamodels }, (engine) =>
    engine.diff({
      from: { tag: "migrations", ...migrationsList },
      to: { tag: "schemaDatamodel", files: datamodels.map(([path, content]) => ({ path, content })) },
      script: true,
      exitCode: true,
      filters: NO_FILTER,
    }),
  );
  return out.exitCode === 2 ? (out.stdout ?? "") : "";
}

/** `prisma migrate dev --create-only`, minus the dev database: writes `<dir>/<timestamp>_<name>/migration.sql`. */
export async function createMigration(opts: CreateOptions): Promise<CreateResult> {
  assertIdentifier("migration name", opts.name);
  const script = await diffMigrations(opts);
  if (!script) return {};
  const folder = await writeMigration(opts.migrationsDir, migrationFolderName(opts.name), script);
  return { folder, script };
}

export interface StatusResult {
  upToDate: boolean;
  pending: string[];
  failed: string[];
  edited: string[];
  /** Applied in the database but missing from the folder. */
  unknown: string[];
}

/** `prisma migrate status`, without a shadow database. */
export async function migrationStatus(opts: TargetOptions): Promise<StatusResult> {
  const migrationsList = await readMigrations(opts.migrationsDir);
  const out = await withEngine(opts, (engine) =>
    engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTER }),
  );
  const h = out.history;
  const pending = !out.hasMigrationsTable
    ? migrationsList.migrationDirectories.map((d) => d.path)
    : h?.diagnostic === "databaseIsBehind" || h?.diagnostic === "historiesDiverge"
      ? h.unappliedMigrationNames
      : [];
  const unknown =
    h?.diagnostic === "migrationsDirectoryIsBehind" || h?.diagnostic === "historiesDiverge" ? h.unpersistedMigrationNames : [];
  const result = { pending, unknown, failed: out.failedMigrationNames, edited: out.editedMigrationNames };
  return { ...result, upToDate: Object.values(result).every((list) => list.length === 0) };
}
