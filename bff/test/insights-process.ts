// svc-insights as its own process, the way the edge's tests run it (service-process.ts).
import type { TestDatabase } from "@apgms/common/testing/database";
import { appRole, INSIGHTS, serviceDatabase, spawnService, type ServiceProcess } from "./service-process.js";

export const INSIGHTS_APP_ROLE = appRole(INSIGHTS);
export type InsightsProcess = ServiceProcess;
export const insightsDatabase = (prefix: string): Promise<TestDatabase> => serviceDatabase(INSIGHTS, prefix);
export const spawnInsights = (db: TestDatabase, env: Record<string, string> = {}): Promise<InsightsProcess> => spawnService(INSIGHTS, db, env);
