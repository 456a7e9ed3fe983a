// svc-billing as its own process, the way the edge's tests run it (service-process.ts).
import type { TestDatabase } from "@apgms/common/testing/database";
import { appRole, BILLING, serviceDatabase, spawnService, type ServiceProcess } from "./service-process.js";

export const BILLING_APP_ROLE = appRole(BILLING);
export type BillingProcess = ServiceProcess;
export const billingDatabase = (prefix: string): Promise<TestDatabase> => serviceDatabase(BILLING, prefix);
export const spawnBilling = (db: TestDatabase, env: Record<string, string> = {}): Promise<BillingProcess> => spawnService(BILLING, db, env);
