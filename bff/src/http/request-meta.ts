import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Principal } from "@apgms/common/context";
import type { AuthPrincipal } from "../auth/principal.js";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The client's x-request-id when it is a sane correlation id, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers["x-request-id"];
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** The client address: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? req.headers["x-forwarded-for"] : undefined;
  return (typeof forwarded === "string" ? forwarded.split(",")[0]!.trim() : req.socket.remoteAddress) ?? "";
}

/** The principal as gRPC calls and the audit trail name it. */
export const principalRef = (p: AuthPrincipal): Principal => (p.kind === "user" ? { kind: "user", id: p.user.id } : { kind: "apiKey", id: p.apiKey.id });
