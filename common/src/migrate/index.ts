// Offline Prisma Migrate for every service: the WASM schema engine driven
// through @prisma/adapter-pg. Import as "@apgms/common/migrate/index".
export {
  createMigration,
  deployMigrations,
  diffMigrations,
  migrationStatus,
  type CreateOptions,
  type CreateResult,
  type DeployResult,
  type StatusResult,
  type TargetOptions,
} from "./commands.js";
export { createMigrationAdapterFactory, type MigrationAdapterFactory, type MigrationAdapterOptions } from "./pg-adapter.js";
export { readMigrations } from "./migrations-dir.js";
