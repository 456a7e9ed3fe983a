import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";

export type { SchemaEngine } from "@prisma/schema-engine-wasm";

type SchemaEngineClass = typeof SchemaEngine;

declare global {
  // Read by the WASM panic hook.
  // eslint-disable-next-line no-var
  var PRISMA_WASM_PANIC_REGISTRY: { set_message(message: string): void } | undefined;
}

// Typed locally: ES2023 lib and @types/node 20 do not declare WebAssembly.
interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, object>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let lastPanic: string | undefined;
let openEngines = 0;
/** Timers the engine set (e.g. a 10 s lock timeout it never clears); they would keep Node alive. */
const engineTimers = new Set<ReturnType<typeof setTimeout>>();

function trackTimers(bg: Record<string, unknown>): Record<string, unknown> {
  const imports = { ...bg };
  for (const [name, fn] of Object.entries(bg)) {
    if (!name.startsWith("__wbg_setTimeout_") || typeof fn !== "function") continue;
    imports[name] = (callback: () => void, ms: number) => {
      const timer: ReturnType<typeof setTimeout> = fn(() => {
        engineTimers.delete(timer);
        callback();
      }, ms);
      engineTimers.add(timer);
      return timer;
    };
  }
  return imports;
}

let loading: Promise<SchemaEngineClass> | undefined;

/**
 * Loads @prisma/schema-engine-wasm without --experimental-wasm-modules: its
 * entry point imports the .wasm file as a module, so instantiate it by hand.
 */
function loadSchemaEngineClass(): Promise<SchemaEngineClass> {
  loading ??= (async () => {
    globalThis.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (message) => void (lastPanic = message) };
    const bgPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bg = await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await readFile(join(dirname(bgPath), "schema_engine_bg.wasm"));
    const { instance } = await wasmApi.instantiate(bytes, { "./schema_engine_bg.js": trackTimers(bg) });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bg.SchemaEngine;
  })();
  return loading;
}

export interface OpenEngineOptions {
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** Prisma schema files as [path, content]; needed by create/diff. */
  datamodels?: [string, string][];
  /** Engine log lines (JSON); default: printed when MIGRATE_DEBUG is set. */
  log?: (line: string) => void;
}

/** Pair every call with closeSchemaEngine. */
export async function openSchemaEngine({ adapterFactory, datamodels, log }: OpenEngineOptions): Promise<SchemaEngine> {
  const Engine = await loadSchemaEngineClass();
  const sink = log ?? (process.env.MIGRATE_DEBUG ? (line: string) => process.stderr.write(`${line}\n`) : () => {});
  openEngines += 1;
  try {
    return await Engine.new({ datamodels }, sink, bindMigrationAwareSqlAdapterFactory(adapterFactory));
  } catch (error) {
    releaseEngine();
    throw error;
  }
}

function releaseEngine(): void {
  openEngines -= 1;
  if (openEngines > 0) return;
  for (const timer of engineTimers) clearTimeout(timer);
  engineTimers.clear();
}

export function closeSchemaEngine(engine: SchemaEngine): void {
  engine.free();
  releaseEngine();
}

/** Turns an engine rejection (often a plain object) into an Error with its message. */
export function engineError(error: unknown): Error {
  if (lastPanic) {
    // Nothing is safe to call after a WASM panic: load a fresh instance next time.
    const panic = lastPanic;
    lastPanic = undefined;
    loading = undefined;
    return new Error(`schema engine panicked: ${panic}`, { cause: error });
  }
  if (error instanceof Error) return error;
  const obj = error as { message?: unknown; error_code?: unknown } | null;
  const message = typeof obj?.message === "string" ? obj.message : JSON.stringify(error);
  const code = typeof obj?.error_code === "string" ? `${obj.error_code}: ` : "";
  return new Error(`${code}${message}`, { cause: error });
}
