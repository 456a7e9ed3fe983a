// Prisma 7 CLI configuration for worker.
// `prisma generate` needs no database. `prisma migrate deploy` (production,
// where the schema engine binary is available) reads DATABASE_URL; add
// `?schema=worker` to it so `_prisma_migrations` lives in the service's own
// schema, as the offline tool (`@apgms/common/migrate`) does.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
