#!/usr/bin/env node
// Offline Prisma Migrate. Usage: node common/dist/src/migrate/cli.js <command> [options]
import { parseArgs } from "node:util";
import { createMigration, deployMigrations, diffMigrations, migrationStatus } from "./commands.js";

const USAGE = `usage: cli.js <command> [options]
  deploy  --migrations <dir> --schema <pg schema> [--database-url URL]
  create  --prisma-schema <file> --migrations <dir> --schema <pg schema> --name <name> [--database-url URL]
  diff    --prisma-schema <file> --migrations <dir> --schema <pg schema> [--database-url URL]
  status  --migrations <dir> --schema <pg schema> [--database-url URL]
--database-url defaults to $DATABASE_URL; create/diff use it only to host a throwaway shadow database.
Set MIGRATE_DEBUG=1 for the schema engine's log.`;

const OPTIONS = {
  migrations: { type: "string" },
  schema: { type: "string" },
  "database-url": { type: "string" },
  "prisma-schema": { type: "string" },
  name: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

class UsageError extends Error {}

function need(values: Record<string, string | boolean | undefined>, key: string): string {
  const value = values[key];
  if (typeof value !== "string" || value === "") throw new UsageError(`missing --${key}`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command, ...extra] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
  if (!databaseUrl) throw new UsageError("missing --database-url (or DATABASE_URL)");
  const target = { databaseUrl, schema: need(values, "schema"), migrationsDir: need(values, "migrations") };
  const started = Date.now();
  const took = () => `(${Date.now() - started} ms)`;

  switch (command) {
    case "deploy": {
      const { applied } = await deployMigrations(target);
      if (applied.length === 0) console.log(`No pending migrations to apply. ${took()}`);
      else console.log(`Applied ${applied.length} migration(s) ${took()}:\n${applied.map((n) => `  ${n}`).join("\n")}`);
      return 0;
    }
    case "create": {
      const opts = { ...target, prismaSchema: need(values, "prisma-schema"), name: need(values, "name") };
      const { folder } = await createMigration(opts);
      console.log(folder ? `Created ${folder} ${took()}` : `no changes ${took()}`);
      return 0;
    }
    case "diff": {
      const sql = await diffMigrations({ ...target, prismaSchema: need(values, "prisma-schema") });
      process.stdout.write(sql || "-- no changes\n");
      return sql ? 2 : 0;
    }
    case "status": {
      const s = await migrationStatus(target);
      const lines = [
        ...s.pending.map((n) => `pending: ${n}`),
        ...s.failed.map((n) => `failed: ${n}`),
        ...s.edited.map((n) => `edited after apply: ${n}`),
        ...s.unknown.map((n) => `in database, not in folder: ${n}`),
      ];
      console.log(s.upToDate ? `Database schema is up to date. ${took()}` : lines.join("\n"));
      return s.upToDate ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${(error as Error).message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    }
  },
);
