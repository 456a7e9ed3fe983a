import { createBroadcast, subjectToken } from "@apgms/common/nats/broadcast";
import type { Logger } from "@apgms/common/logger";
import { z } from "zod";

/** What one edge tells the others to forget from their in-process auth caches. */
export const revocationSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("user"), userId: z.string().min(1) }),
  z.object({ kind: z.literal("tenant"), tenantId: z.string().min(1) }),
  z.object({ kind: z.literal("identity"), iss: z.string().min(1), sub: z.string().min(1) }),
  z.object({ kind: z.literal("session"), userId: z.string().min(1), sessionKey: z.string().min(1) }),
]);
export type Revocation = z.infer<typeof revocationSchema>;

/** How revocations reach the other edge instances. */
export interface RevocationChannel {
  publish(revocation: Revocation): void;
  /** Registers what to do with another edge's revocation (the authenticator's local forget). */
  listen(apply: (revocation: Revocation) => void): void;
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** The subject every edge of a deployment (or test run) shares. */
export const revocationSubject = (prefix: string) => `${subjectToken(prefix)}.auth.revoke`;

/**
 * Revocations over NATS core pub/sub: every edge hears every other within
 * milliseconds. A message lost while NATS is down is bounded by
 * AUTH_CACHE_SECONDS, since every cache entry expires anyway.
 */
export function natsRevocations(options: { url: string; prefix: string; logger: Logger }): RevocationChannel {
  let apply: (revocation: Revocation) => void = () => {};
  const broadcast = createBroadcast<Revocation>({
    url: options.url,
    name: "bff",
    subject: revocationSubject(options.prefix),
    logger: options.logger,
    parse: (body) => revocationSchema.parse(body),
    onMessage: (revocation) => apply(revocation),
  });
  return {
    publish: (revocation) => broadcast.publish(revocation),
    listen: (fn) => {
      apply = fn;
    },
    ready: () => broadcast.ready(),
    close: () => broadcast.close(),
  };
}
