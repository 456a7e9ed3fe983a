#!/usr/bin/env node
// Dead letters from the command line: npm -w @apgms/worker run dead-letters -- list | show <seq> | replay <seq>
// Reads NATS_URL and NATS_PREFIX as the worker does.
import { parseArgs } from "node:util";
import { jetstream } from "@apgms/common/nats/jetstream";
import { connectNats } from "@apgms/common/nats/connect";
import { z } from "zod";
import { parseConfig } from "@apgms/common";
import { getDeadLetter, listDeadLetters, replayDeadLetter, type DeadLetter } from "./jobs/dead-letters.js";
import { workerTopology } from "./jobs/topology.js";

const USAGE = `usage: dead-letters <command> [--json]
  list [--limit N]   dead letters, oldest first (default 100): seq, kind, job id, tenant, deliveries, when, reason
  show <seq>         one dead letter with its payload
  replay <seq>       put the job back on the jobs stream (same job id) and remove the dead letter
Environment: NATS_URL (nats://127.0.0.1:4222), NATS_PREFIX (apgms).`;

const envSchema = z.object({
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only").default("apgms"),
});

function line(d: DeadLetter): string {
  return [d.seq, d.kind, d.jobId, d.tenantId, `${d.deliveries} deliveries`, d.deadAt, d.reason].join("\t");
}

function printable(d: DeadLetter): Omit<DeadLetter, "data"> {
  const { data: _data, ...rest } = d;
  return rest;
}

function seqArg(value: string | undefined): number {
  const seq = Number(value);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`expected a dead letter's sequence number, got ${JSON.stringify(value)}`);
  return seq;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { limit: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const config = parseConfig(envSchema);
  const topology = workerTopology(config.NATS_PREFIX, []);
  const nc = await connectNats({ url: config.NATS_URL, name: "worker-dead-letters" });
  try {
    switch (command) {
      case "list": {
        const limit = values.limit === undefined ? 100 : seqArg(values.limit);
        const letters = await listDeadLetters(nc, topology, limit);
        if (values.json) console.log(JSON.stringify(letters.map(printable), null, 2));
        else if (letters.length === 0) console.log(`no dead letters in ${topology.deadLetters.name}`);
        else for (const d of letters) console.log(line(d));
        return 0;
      }
      case "show": {
        const letter = await getDeadLetter(nc, topology, seqArg(arg));
        if (!letter) {
          console.error(`no dead letter ${arg} in ${topology.deadLetters.name}`);
          return 1;
        }
        console.log(JSON.stringify(printable(letter), null, 2));
        return 0;
      }
      case "replay": {
        const letter = await replayDeadLetter(nc, jetstream(nc), topology, seqArg(arg));
        if (!letter) {
          console.error(`no dead letter ${arg} in ${topology.deadLetters.name}`);
          return 1;
        }
        console.log(`replayed ${letter.kind} job ${letter.jobId} (tenant ${letter.tenantId}); dead letter ${letter.seq} removed`);
        return 0;
      }
      default:
        console.error(`unknown command ${command}\n${USAGE}`);
        return 2;
    }
  } finally {
    await nc.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
